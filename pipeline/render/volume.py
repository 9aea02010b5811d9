"""Rendering a field along rays in two passes, as EG3D and NeRF do: stratified samples in
the ray range, then as many again drawn where the first pass found the field opaque, and
both sets marched together."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from pipeline.render.field import Field
from pipeline.render.importance import sample_intervals, smooth_weights
from pipeline.render.march import march, Rendered
from pipeline.render.rays import points_along, Rays, stratified_depths


@dataclass(frozen=True)
class VolumeConfig:
    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    near: float = 2.25  # ray range, world units (EG3D's faces: 2.25 to 3.3 from a camera 2.7 away)
    far: float = 3.3
    coarse_samples: int = 48  # stratified
    fine_samples: int = 48  # importance; 0: one pass


def _query(field: Field, latent, rays: Rays, depths: torch.Tensor):
    """The field at ``depths`` (N, R, S, 1): raw density (N, R, S, 1) and features (N, R, S, C)."""
    n, count, samples, _ = depths.shape
    points = points_along(rays, depths).reshape(n, count * samples, 3)
    directions = rays.directions[:, :, None].expand(n, count, samples, 3).reshape(n, count * samples, 3)
    out = field(points, directions, latent)
    return out.raw_density.reshape(n, count, samples, 1), out.features.reshape(n, count, samples, -1)


def render_rays(field: Field, latent, rays: Rays, config: VolumeConfig, generator: torch.Generator | None = None,
                deterministic: bool = False) -> Rendered:
    """``field`` (with its ``latent``) rendered along ``rays`` (N, R): a coarse pass of stratified
    depths, then, with ``fine_samples``, importance depths from the coarse weights (smoothed),
    both passes' samples sorted together and marched. ``deterministic``: bin centres and evenly
    spaced quantiles instead of random draws (for evaluation and tests)."""
    n, count, _ = rays.directions.shape
    depths = stratified_depths((n, count), config.near, config.far, config.coarse_samples, generator, deterministic,
                               rays.directions.device).to(rays.directions.dtype)
    raw, features = _query(field, latent, rays, depths)
    if config.fine_samples:
        coarse = march(raw, features, depths)
        fine = sample_intervals(depths, smooth_weights(coarse.weights.detach()), config.fine_samples, generator,
                                deterministic).detach()
        fine_raw, fine_features = _query(field, latent, rays, fine)
        depths, order = torch.sort(torch.cat([depths, fine], dim=2), dim=2)
        raw = torch.gather(torch.cat([raw, fine_raw], dim=2), 2, order)
        features = torch.gather(torch.cat([features, fine_features], dim=2), 2, order.expand(-1, -1, -1, features.shape[-1]))
    return march(raw, features, depths)
