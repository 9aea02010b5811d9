"""Section ``train_geometry``: the Geometry Net and how it is trained (stage ``train_geometry``)."""

from __future__ import annotations

from pydantic import Field

from pipeline.models.relighting import GeometryConfig
from pipeline.schema.relighting import RelightTrainParams


class TrainGeometryParams(RelightTrainParams):
    model: GeometryConfig = Field(description="U-Net widths (published: 32, 64, 128, 256, 512, 512), bottleneck "
                                  "(published: 512), norm (group normalisation; the paper names none)")
    loss_l1: float = Field(ge=0, description="L1 on normals")
    loss_angular: float = Field(ge=0, description="mean angle (radians) between predicted and true normals")


SCHEMA = TrainGeometryParams
