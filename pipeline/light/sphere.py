"""Directions on the unit sphere (world space, y up) and their solid angles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LightSet:
    """L distant lights: unit directions (L, 3) towards each light, and the solid
    angle (L,) of each light's Voronoi cell on the sphere (they sum to 4 pi)."""

    directions: np.ndarray
    solid_angles: np.ndarray

    def __len__(self) -> int:
        return len(self.solid_angles)


def fibonacci_directions(count: int) -> np.ndarray:
    """``count`` near-uniform unit vectors (count, 3) on a golden-angle spiral about +y."""
    index = np.arange(count, dtype=np.float64) + 0.5
    y = 1.0 - 2.0 * index / count
    radius = np.sqrt(np.clip(1.0 - y * y, 0.0, None))
    azimuth = np.pi * (3.0 - np.sqrt(5.0)) * index
    return np.stack([radius * np.cos(azimuth), y, radius * np.sin(azimuth)], axis=1)


def voronoi_solid_angles(directions: np.ndarray) -> np.ndarray:
    """Solid angle (steradians) of each direction's spherical Voronoi cell."""
    from scipy.spatial import SphericalVoronoi

    return SphericalVoronoi(directions, radius=1.0).calculate_areas()


def uniform_light_set(count: int) -> LightSet:
    directions = fibonacci_directions(count)
    return LightSet(directions=directions, solid_angles=voronoi_solid_angles(directions))
