"""Section ``evaluate_gan``: the 3D-aware generators against the real faces (stage ``evaluate_gan``)."""

from __future__ import annotations

from pydantic import Field

from pipeline.config import Section


class EvaluateGanParams(Section):
    images: int = Field(ge=4, le=1_000_000, description="real images drawn: half are the reference set every "
                        "generator is compared with, half the real-against-real baseline; each generator makes as "
                        "many as the reference set (FID is biased at small n: the table states n)")
    init_images: int = Field(ge=4, description="images each generator makes at initialisation (its ceiling row; "
                             "at most as many as the reference set)")
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
    inversion_subjects: int = Field(ge=0, description="held-out subjects for inversion (0: no inversion)")
    inversion_yaws: list[float] = Field(min_length=2, description="degrees: the views of each held-out subject; the "
                                        "one nearest 0 is fitted, the others are novel views")
    inversion_steps: int = Field(ge=1, description="Adam steps fitting the latent to the frontal view")
    inversion_rate: float = Field(gt=0, description="Adam's rate for the latent")
    inversion_resolution: int = Field(ge=8, description="pixels: the views are fitted and scored at this size")
    grid_images: int = Field(ge=1, le=64, description="images per row of the preview: real, each generator, its initialisation")


SCHEMA = EvaluateGanParams
