"""Importance sampling along rays: new depths drawn from the piecewise-constant density that
a coarse pass's weights define over its intervals (inverse transform sampling, NeRF's
hierarchical sampling as EG3D uses it)."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def smooth_weights(weights: torch.Tensor, floor: float = 0.01) -> torch.Tensor:
    """Coarse weights (N, R, K, 1) widened before sampling, as EG3D does: a max over each pair of
    neighbours, then the mean of neighbouring pairs, plus ``floor`` so that no interval is
    left out entirely. Same shape."""
    flat = weights.reshape(-1, 1, weights.shape[2])  # (N * R, 1, K)
    widened = F.max_pool1d(F.pad(flat, (1, 1), mode="replicate"), 2, stride=1)  # (N * R, 1, K + 1)
    smoothed = F.avg_pool1d(widened, 2, stride=1)  # (N * R, 1, K)
    return (smoothed + floor).reshape(weights.shape)


def sample_intervals(edges: torch.Tensor, weights: torch.Tensor, samples: int,
                     generator: torch.Generator | None = None, deterministic: bool = False) -> torch.Tensor:
    """``samples`` depths (N, R, samples, 1) drawn from the density that puts mass ``weights``
    (N, R, K, 1), uniformly spread, on each interval between consecutive ``edges`` (N, R, K + 1, 1).
    ``deterministic``: the quantiles at evenly spaced levels instead of uniform draws. Sorted."""
    n, rays, k, _ = weights.shape
    mass = weights[..., 0] + 1e-5
    cdf = torch.cumsum(mass / mass.sum(dim=-1, keepdim=True), dim=-1)
    cdf = torch.cat([torch.zeros_like(cdf[..., :1]), cdf], dim=-1)  # (N, R, K + 1), from 0 to 1
    if deterministic:
        levels = torch.linspace(0.0, 1.0, samples, device=weights.device).expand(n, rays, samples).contiguous()
    else:
        levels = torch.rand((n, rays, samples), generator=generator, device=weights.device)
    upper = torch.searchsorted(cdf, levels, right=True).clamp(1, k)  # the interval each level falls in
    lower = upper - 1
    cdf_low, cdf_high = cdf.gather(-1, lower), cdf.gather(-1, upper)
    edge = edges[..., 0]
    edge_low, edge_high = edge.gather(-1, lower), edge.gather(-1, upper)
    span = torch.where(cdf_high - cdf_low < 1e-5, torch.ones_like(cdf_low), cdf_high - cdf_low)
    depths = edge_low + (levels - cdf_low) / span * (edge_high - edge_low)
    return torch.sort(depths, dim=-1).values[..., None]
