"""Section ``evaluate_gan``: the 3D-aware generators against the real faces (stage ``evaluate_gan``)."""

from __future__ import annotations

from pydantic import Field

from pipeline.config import Section


class EvaluateGanParams(Section):
    images: int = Field(ge=4, le=1_000_000, description="real images drawn: half are the reference set every "
                        "generator is compared with, half the real-against-real baseline; each generator makes as "
                        "many as the reference set (FID is biased at small n: the table states n)")
    curve_images: int = Field(ge=2, description="images per snapshot for the FID/KID curve over training")
    curve_points: int = Field(ge=1, description="at most this many snapshots on the curve (evenly spaced, the last included)")
    kid_subsets: int = Field(ge=1, description="random subsets (each half the images) KID averages over; kid_std "
                             "is their spread")
    swd_patches: int = Field(ge=1, description="7 x 7 patches per image and pyramid level for SWD")
    multiview_heads: int = Field(ge=1, description="heads rendered from two yaws for the multi-view consistency")
    multiview_yaw: float = Field(gt=0, le=60, description="degrees: the two views at -yaw and +yaw")
    multiview_tolerance: float = Field(gt=0, description="world units: a reprojected point is co-visible when the "
                                       "other view's depth agrees within this")
    pose_images: int = Field(ge=1, description="generated (and real) images whose pose dlib and the poses fit "
                             "estimate, against their cameras")
    batch: int = Field(ge=1, description="images per forward pass (generators and Inception)")
    grid_images: int = Field(ge=1, le=64, description="images per row of the preview: real, each generator, its initialisation")


SCHEMA = EvaluateGanParams
