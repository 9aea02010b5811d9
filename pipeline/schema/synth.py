"""Section ``synth``: the synthetic light stage, HDR maps and face set (stage ``synth``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from pipeline.config import Section


class SynthParams(Section):
    subjects: int = Field(ge=2, le=10_000, description="number of synthetic subjects")
    test_subjects: int = Field(ge=1, description="subjects held out for testing")
    views: int = Field(ge=1, le=64, description="camera views per subject")
    resolution: int = Field(ge=16, le=2048, description="image height and width in pixels")
    supersample: int = Field(ge=1, le=4, description="samples per pixel side (anti-aliased alpha)")
    lights: int = Field(ge=4, le=4096, description="OLAT lights, near-uniform on the sphere")
    max_yaw_deg: float = Field(ge=0, le=90, description="views spread over +-yaw about the front")
    hdris: int = Field(ge=2, le=10_000, description="procedural HDR environment maps")
    test_hdris: int = Field(ge=1, description="maps held out for testing")
    hdri_height: int = Field(ge=8, le=4096, description="equirect height; width is twice this")
    faces: int = Field(ge=2, le=1_000_000, description="images in the face set (3D-aware GANs, poses)")
    face_resolution: int = Field(ge=16, le=1024, description="face image height and width")
    face_supersample: int = Field(ge=1, le=4, description="samples per pixel side for faces")
    face_lights: int = Field(ge=4, le=1024, description="lights the face set's HDR maps are discretised into")
    test_face_fraction: float = Field(gt=0, lt=1, description="share of face images held out")
    max_facet_px: float = Field(gt=0, le=10, description="meshes are refined (PN triangles) until the 99th percentile "
                                "of their edges' bulge is under this many pixels (silhouettes without facets)")
    workers: int = Field(ge=1, le=64, description="processes rendering in parallel (output does not depend on it)")

    @model_validator(mode="after")
    def _held_out_fits(self) -> SynthParams:
        if self.test_subjects >= self.subjects:
            raise ValueError("test_subjects must be smaller than subjects")
        if self.test_hdris >= self.hdris:
            raise ValueError("test_hdris must be smaller than hdris")
        return self


SCHEMA = SynthParams
