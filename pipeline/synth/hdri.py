"""Procedural HDR environment maps: sky, sun, an area light and coloured ground."""

from __future__ import annotations

import numpy as np

from pipeline.light.equirect import pixel_directions


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def random_direction(rng: np.random.Generator, min_elevation: float, max_elevation: float) -> np.ndarray:
    """A unit vector with elevation (radians above the horizon) in the given range."""
    elevation = rng.uniform(min_elevation, max_elevation)
    azimuth = rng.uniform(0.0, 2.0 * np.pi)
    return np.array([np.cos(elevation) * np.sin(azimuth), np.sin(elevation), np.cos(elevation) * np.cos(azimuth)])


def procedural_sky(rng: np.random.Generator, height: int) -> np.ndarray:
    """A linear-radiance equirect map (H, 2H, 3) with a dynamic range of 1000:1 or more.

    The sun is a small disc whose radiance is drawn so that its peak is
    1e3 to 1e4 times the sky's, the area light a soft rectangle-like lobe.
    """
    directions = pixel_directions(height)
    up = directions[..., 1:2]
    zenith = rng.uniform([0.05, 0.15, 0.4], [0.3, 0.45, 1.0])
    horizon = rng.uniform(0.5, 1.0, 3)
    ground = rng.uniform(0.02, 0.35, 3)
    blend = np.clip(up, 0.0, 1.0) ** 0.5
    env = np.where(up > 0, horizon * (1 - blend) + zenith * blend, ground * (0.6 + 0.4 * np.exp(8 * up)))

    sun = random_direction(rng, np.radians(5), np.radians(80))
    sun_radius = np.radians(rng.uniform(2.0, 4.0)) * max(1.0, 64 / height)  # stay a few pixels wide
    sun_cos = directions @ sun
    sun_peak = rng.uniform(1e3, 1e4) * env[up[..., 0] > 0].mean()
    sun_colour = _unit(rng.uniform([1.0, 0.85, 0.7], [1.0, 1.0, 1.0])) * np.sqrt(3)
    disc = np.exp(-((1 - sun_cos) / (1 - np.cos(sun_radius))) ** 2)
    env = env + sun_peak * disc[..., None] * sun_colour

    area = random_direction(rng, np.radians(-10), np.radians(60))
    area_size = np.radians(rng.uniform(10, 25))
    area_lobe = np.exp(-((1 - directions @ area) / (1 - np.cos(area_size))) ** 4)
    env = env + rng.uniform(2.0, 20.0) * area_lobe[..., None] * rng.uniform(0.5, 1.0, 3)
    return env.astype(np.float32)
