"""EG3D's tri-plane field: features sampled from three planes (``render.triplane``), decoded
by a small MLP into a raw density and a feature vector whose first three channels are RGB."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from pipeline.render.field import FieldOutput
from pipeline.render.triplane import PlaneAxes, sample_planes

RGB_MARGIN = 0.001  # the features' sigmoid is stretched by this on both sides, as released, so 0 and 1 are reachable


@dataclass(frozen=True)
class TriplaneConfig:
    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    channels: int = 32  # per plane (EG3D: 32)
    hidden: int = 64  # the decoder's one hidden layer (EG3D: 64, softplus)
    features: int = 32  # decoded feature channels, RGB first (EG3D: 32)
    box_warp: float = 1.0  # side of the cube the planes span, world units
    plane_axes: PlaneAxes = "released"

    def build(self) -> TriplaneField:
        return TriplaneField(self)


class TriplaneField(nn.Module):
    """``Field`` whose latent is the planes (N, 3, C, H, W); the view direction is not used (EG3D)."""

    def __init__(self, config: TriplaneConfig):
        super().__init__()
        self.config = config
        self.hidden = nn.Linear(config.channels, config.hidden)
        self.out = nn.Linear(config.hidden, 1 + config.features)

    def forward(self, points: torch.Tensor, directions: torch.Tensor, planes: torch.Tensor) -> FieldOutput:
        # points (N, M, 3), directions (N, M, 3) unused, planes (N, 3, C, H, W)
        sampled = sample_planes(planes, points, self.config.box_warp, self.config.plane_axes)  # (N, M, C)
        decoded = self.out(F.softplus(self.hidden(sampled)))
        features = torch.sigmoid(decoded[..., 1:]) * (1 + 2 * RGB_MARGIN) - RGB_MARGIN
        return FieldOutput(raw_density=decoded[..., :1], features=features)
