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
