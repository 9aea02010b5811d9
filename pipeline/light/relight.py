"""Image-based relighting: an environment map as weights on a set of distant lights."""

from __future__ import annotations

import numpy as np

from pipeline.light.equirect import pixel_directions, pixel_solid_angles


def light_weights(env: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """RGB weight (L, 3) of each light: the map's radiance integrated over the light's Voronoi
    cell, i.e. the sum over the map's pixels nearest to it of radiance times solid angle."""
    height = env.shape[0]
    pixels = pixel_directions(height).reshape(-1, 3)
    nearest = np.argmax(pixels @ directions.T, axis=1)
    radiance = env.reshape(-1, env.shape[-1]) * pixel_solid_angles(height).reshape(-1, 1)
    weights = np.zeros((len(directions), env.shape[-1]))
    np.add.at(weights, nearest, radiance)
    return weights


def relight(olat: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_i w_i OLAT_i``: OLAT stack (L, H, W, 3) under light weights (L, 3) -> (H, W, 3)."""
    return np.einsum("lhwc,lc->hwc", olat, weights, optimize=True)


def reflect(normals: np.ndarray, view: np.ndarray) -> np.ndarray:
    """Reflection vectors r = 2 (n.v) n - v (..., 3) of unit view directions about unit normals."""
    return 2.0 * np.sum(normals * view, axis=-1, keepdims=True) * normals - view


def lookup_light_maps(diffuse: np.ndarray, phong: np.ndarray, normals: np.ndarray, view: np.ndarray,
                      mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel light maps: the diffuse map (h, 2h, 3) at the normals and each Phong map
    (K, h, 2h, 3) at the reflection vectors; normals and view are world-space (H, W, 3).
    Returns (diffuse (H, W, 3), specular (K, H, W, 3)), zero where ``mask`` (H, W) is False."""
    from pipeline.light.equirect import sample

    reflected = reflect(normals, view)
    d = np.where(mask[..., None], sample(diffuse, normals), 0.0)
    s = np.stack([np.where(mask[..., None], sample(p, reflected), 0.0) for p in phong])
    return d, s
