"""Section ``poses``: landmarks, aligned crops and EG3D cameras of the face photos (stage ``poses``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from pipeline.config import Section


class PosesParams(Section):
    photos: str = Field(description="'' for the face set; or a folder of face photos (any depth: png, jpg, ...), "
                        "which needs the dlib detector and is not tracked by DVC (rerun with dvc repro -f poses)")
    detector: Literal["synthetic", "dlib"] = Field(description="landmarks: the face set's own plus noise, or dlib's 68 points")
    noise_px: float = Field(ge=0, le=20, description="synthetic detector: Gaussian scatter per coordinate, source pixels")
    resolution: int = Field(ge=16, le=1024, description="aligned crops are this many pixels square (the GANs' resolution)")
    max_error_px: float = Field(gt=0, description="a fit whose RMS reprojection error (crop pixels) exceeds this is rejected")
    min_points: int = Field(ge=6, le=68, description="a fit needs at least this many visible landmarks and RANSAC inliers")
    mirror: bool = Field(description="add a mirrored copy of every kept image with the mirrored camera, as EG3D does")
    eval_noise_px: list[float] = Field(description="scoring against true cameras: the synthetic detector at each of these noises")
    eval_dlib: bool = Field(description="scoring against true cameras: also dlib's detector on the same photos")


    @model_validator(mode="after")
    def _photos_need_a_detector(self) -> PosesParams:
        if self.photos and self.detector == "synthetic":
            raise ValueError("poses.photos: a folder of photos has no landmarks of its own; set poses.detector: dlib")
        return self


SCHEMA = PosesParams
