"""Equirectangular maps: pixel directions and solid angles.

Convention (world space, y up): row r, column c of an H x 2H map is the
direction with polar angle theta = pi (r + 0.5) / H from +y and azimuth
phi = 2 pi (c + 0.5) / (2H), d = (sin theta sin phi, cos theta, sin theta cos phi).
The map's centre column (phi = pi) looks along -z: what a camera on +z looking
at the origin sees behind the subject.
"""

from __future__ import annotations

import numpy as np


def pixel_angles(height: int) -> tuple[np.ndarray, np.ndarray]:
    """Polar angles (H,) of the rows and azimuths (2H,) of the columns."""
    theta = np.pi * (np.arange(height) + 0.5) / height
    phi = 2.0 * np.pi * (np.arange(2 * height) + 0.5) / (2 * height)
    return theta, phi


def pixel_directions(height: int) -> np.ndarray:
    """Unit direction (H, 2H, 3) of every pixel centre."""
    theta, phi = pixel_angles(height)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    return np.stack([np.sin(t) * np.sin(p), np.cos(t), np.sin(t) * np.cos(p)], axis=-1)


def pixel_solid_angles(height: int) -> np.ndarray:
    """Exact solid angle (H, 2H) of every pixel: (2 pi / W) (cos theta_top - cos theta_bottom).

    This is the sin(theta) weighting that a plain pixel mean forgets.
    """
    edges = np.pi * np.arange(height + 1) / height
    band = np.cos(edges[:-1]) - np.cos(edges[1:])
    return np.repeat((np.pi / height * band)[:, None], 2 * height, axis=1)


def direction_to_pixel(directions: np.ndarray, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Continuous (row, col) coordinates of unit directions (..., 3) on an H x 2H map."""
    x, y, z = directions[..., 0], directions[..., 1], directions[..., 2]
    theta = np.arccos(np.clip(y, -1.0, 1.0))
    phi = np.mod(np.arctan2(x, z), 2.0 * np.pi)
    return theta / np.pi * height - 0.5, phi / (2.0 * np.pi) * (2 * height) - 0.5


def sample(env: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Bilinear lookup (..., C) of an H x 2H map (H, 2H, C) along unit directions (..., 3).

    Columns wrap around; rows clamp at the poles.
    """
    height, width = env.shape[:2]
    rows, cols = direction_to_pixel(directions, height)
    rows = np.clip(rows, 0.0, height - 1.0)
    r0 = np.floor(rows).astype(int)
    c0 = np.floor(cols).astype(int)
    fr, fc = (rows - r0)[..., None], (cols - c0)[..., None]
    r1 = np.minimum(r0 + 1, height - 1)
    c0, c1 = c0 % width, (c0 + 1) % width
    top = env[r0, c0] * (1 - fc) + env[r0, c1] * fc
    bottom = env[r1, c0] * (1 - fc) + env[r1, c1] * fc
    return top * (1 - fr) + bottom * fr


def rotate(env: np.ndarray, columns: int) -> np.ndarray:
    """The map rotated about the vertical axis by ``columns`` pixels (2 pi columns / width radians)."""
    return np.roll(env, columns, axis=1)
