"""Tri-plane features: a 3D point's feature is the mean of bilinear samples from three
axis-aligned feature planes (EG3D).

Points are first scaled by ``2 / box_warp`` so that the cube of side ``box_warp`` about the
origin fills each plane's [-1, 1]^2; outside it a plane reads zeros. ``PLANE_AXES`` are
the plane's two coordinate axes: EG3D's release samples XY, XZ and ZX (it has no YZ
plane: ``"released"``, which its checkpoints need), a clean setting uses XY, XZ, YZ.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch.nn import functional as F

PlaneAxes = Literal["released", "clean"]
PLANE_AXES = {"released": ((0, 1), (0, 2), (2, 0)), "clean": ((0, 1), (0, 2), (1, 2))}


def plane_coordinates(points: torch.Tensor, box_warp: float, axes: PlaneAxes = "released") -> torch.Tensor:
    """Points (N, M, 3) -> their coordinates (N, 3, M, 2) on each plane, in grid_sample's [-1, 1]
    (first coordinate along the plane's width, second along its height)."""
    scaled = points * (2.0 / box_warp)
    return torch.stack([scaled[..., [a, b]] for a, b in PLANE_AXES[axes]], dim=1)


def sample_planes(planes: torch.Tensor, points: torch.Tensor, box_warp: float, axes: PlaneAxes = "released"
                  ) -> torch.Tensor:
    """Features (N, M, C) of points (N, M, 3): the mean over the three planes (N, 3, C, H, W) of a
    bilinear sample (pixel centres at align_corners=False, zeros outside)."""
    n, count, channels, height, width = planes.shape
    if count != 3:
        raise ValueError(f"planes must be (N, 3, C, H, W), got {tuple(planes.shape)}")
    grid = plane_coordinates(points, box_warp, axes).reshape(n * 3, 1, -1, 2)
    sampled = F.grid_sample(planes.reshape(n * 3, channels, height, width), grid.to(planes.dtype), mode="bilinear",
                            padding_mode="zeros", align_corners=False)  # (N * 3, C, 1, M)
    return sampled.reshape(n, 3, channels, -1).mean(dim=1).transpose(1, 2)
