"""Section ``train_albedo``: the Albedo Net and how it is trained (stage ``train_albedo``)."""

from __future__ import annotations

from pydantic import Field

from pipeline.models.relighting import AlbedoConfig
from pipeline.schema.relighting import Intrinsics, RelightTrainParams


class TrainAlbedoParams(RelightTrainParams):
    model: AlbedoConfig = Field(description="U-Net widths (published: 32, 64, 128, 256, 512, 512), bottleneck "
                                "(published: 512), norm (group normalisation; the paper names none)")
    normals: Intrinsics = Field(description="normals the Albedo Net trains on: the Geometry Net's (what inference feeds) or the true ones")
    loss_l1: float = Field(ge=0)
    loss_gradient: float = Field(ge=0, description="multi-scale gradient L1, our stand-in for the VGG perceptual term")


SCHEMA = TrainAlbedoParams
