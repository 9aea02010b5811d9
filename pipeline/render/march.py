"""Volume rendering along rays by midpoint quadrature, as EG3D's released marcher does it.

Between consecutive samples i and i + 1 along a ray, the interval's density, colour and
depth are the means of its two ends; its opacity is ``1 - exp(-softplus(sigma - 1) * delta)``
(EG3D's density activation: a raw output of 0 is nearly transparent), and the weights are
each interval's opacity times the transmittance before it. S samples give S - 1 intervals.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch.nn import functional as F


class Rendered(NamedTuple):
    features: torch.Tensor  # (N, R, C) composited along each ray
    depth: torch.Tensor  # (N, R, 1) expected depth of the visible part, clamped into the samples' range
    weights: torch.Tensor  # (N, R, S - 1, 1) each interval's contribution
    opacity: torch.Tensor  # (N, R, 1) the sum of the weights: 1 - transmittance through the whole range


def density_activation(raw: torch.Tensor) -> torch.Tensor:
    """Density (per unit length) from a field's raw output: softplus(raw - 1)."""
    return F.softplus(raw - 1.0)


def march(raw_density: torch.Tensor, features: torch.Tensor, depths: torch.Tensor) -> Rendered:
    """Composite samples sorted by depth: raw densities (N, R, S, 1), features (N, R, S, C),
    depths (N, R, S, 1)."""
    deltas = depths[:, :, 1:] - depths[:, :, :-1]
    mid = lambda x: (x[:, :, :-1] + x[:, :, 1:]) / 2  # noqa: E731
    alpha = 1.0 - torch.exp(-density_activation(mid(raw_density)) * deltas)
    # transmittance before each interval: the product of (1 - alpha) over the ones before it
    before = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :, :1]), 1.0 - alpha + 1e-10], dim=2), dim=2)[:, :, :-1]
    weights = alpha * before
    opacity = weights.sum(dim=2)
    composite = (weights * mid(features)).sum(dim=2)
    depth = (weights * mid(depths)).sum(dim=2) / opacity.clamp_min(1e-10)
    depth = torch.clamp(torch.nan_to_num(depth, nan=float("inf")), depths.amin(dim=2), depths.amax(dim=2))
    return Rendered(features=composite, depth=depth, weights=weights, opacity=opacity)
