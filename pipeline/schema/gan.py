"""What the 3D-aware GAN training sections (``train_eg3d``, ``train_pigan``) share: the run's
length, checkpoints, snapshots and previews (``pipeline.gan3d.snapshots``). Not a section."""

from __future__ import annotations

from pydantic import Field

from pipeline.config import Section
from pipeline.training import Precision


class GanTrainParams(Section):
    """Each section adds ``model``, ``discriminator`` and ``recipe``."""

    steps: int = Field(ge=1, le=100_000_000)
    checkpoint_every: int = Field(ge=1)
    snapshot_every: int = Field(ge=1, description="steps between snapshots of the EMA generator (the FID curve over "
                                "training) and sample grids at fixed z and cameras")
    preload: bool = Field(description="read every image into memory first (small sets); false: each as it is needed")
    precision: Precision = Field(description="float32; bfloat16 or auto as the other training stages")
    grid_seeds: int = Field(ge=1, le=64, description="rows of the sample grids: one z each, seen from five yaws")
    turntable_frames: int = Field(ge=2, le=720, description="frames of the turntable written at the end of training")
