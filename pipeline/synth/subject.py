"""Procedural subjects: a union of ellipsoids with per-part reflectance.

Each part is an ellipsoid (centre, radii) with an albedo and a Blinn-Phong
specular strength and exponent. Rays are intersected analytically, so normals,
depth and shadows are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PARTS = ("cranium", "neck", "shoulders")


@dataclass(frozen=True)
class Subject:
    centres: np.ndarray  # (K, 3) world space
    radii: np.ndarray  # (K, 3)
    albedo: np.ndarray  # (K, 3) linear RGB
    specular: np.ndarray  # (K,) strength in [0, 1]
    exponent: np.ndarray  # (K,) Blinn-Phong exponent


@dataclass(frozen=True)
class Hits:
    """Nearest intersections of N rays: ``part`` is -1 where a ray misses."""

    depth: np.ndarray  # (N,) distance along the ray
    part: np.ndarray  # (N,) int
    points: np.ndarray  # (N, 3)
    normals: np.ndarray  # (N, 3) unit, world space


def sample_subject(rng: np.random.Generator) -> Subject:
    """A head-and-shoulders figure with random proportions and skin tone."""
    head = np.array([0.16, 0.21, 0.18]) * rng.uniform(0.9, 1.1, 3)
    skin = np.array([0.62, 0.42, 0.33]) * rng.uniform(0.35, 1.25) * rng.uniform(0.9, 1.1, 3)
    shirt = rng.uniform(0.05, 0.6, 3)
    return Subject(
        centres=np.array([[0.0, 0.06, 0.0], [0.0, -0.2, -0.02], [0.0, -0.40, -0.03]]),
        radii=np.stack([head, [0.075, 0.14, 0.075] * rng.uniform(0.9, 1.15, 3), [0.42, 0.13, 0.2] * rng.uniform(0.85, 1.1, 3)]),
        albedo=np.clip(np.stack([skin, skin * 0.95, shirt]), 0.01, 0.95),
        specular=np.array([rng.uniform(0.03, 0.12), 0.05, rng.uniform(0.0, 0.08)]),
        exponent=np.array([rng.uniform(15, 40), 20.0, 8.0]),
    )


def _ellipsoid_roots(origins: np.ndarray, directions: np.ndarray, centre: np.ndarray, radii: np.ndarray):
    """Entry and exit distances (N,), NaN where the ray (N, 3) misses the ellipsoid."""
    o = (origins - centre) / radii
    d = directions / radii
    a = np.einsum("ij,ij->i", d, d)
    b = 2.0 * np.einsum("ij,ij->i", o, d)
    c = np.einsum("ij,ij->i", o, o) - 1.0
    disc = b * b - 4.0 * a * c
    with np.errstate(invalid="ignore"):
        root = np.sqrt(disc)
    return (-b - root) / (2.0 * a), (-b + root) / (2.0 * a)


def intersect(subject: Subject, origin: np.ndarray, directions: np.ndarray) -> Hits:
    """Nearest hit of rays from ``origin`` (3,) along unit ``directions`` (N, 3)."""
    n = len(directions)
    origins = np.broadcast_to(origin, (n, 3))
    depth = np.full(n, np.inf)
    part = np.full(n, -1)
    for k in range(len(subject.centres)):
        near, _ = _ellipsoid_roots(origins, directions, subject.centres[k], subject.radii[k])
        closer = np.nan_to_num(near, nan=np.inf) < depth
        closer &= near > 0
        depth[closer], part[closer] = near[closer], k
    hit = part >= 0
    points = origins + directions * np.where(hit, depth, 0.0)[:, None]
    normals = np.zeros((n, 3))
    k = part[hit]
    gradient = (points[hit] - subject.centres[k]) / subject.radii[k] ** 2
    normals[hit] = gradient / np.linalg.norm(gradient, axis=1, keepdims=True)
    return Hits(depth=depth, part=part, points=points, normals=normals)


def occluded(subject: Subject, points: np.ndarray, normals: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Whether each surface point (N, 3) is shadowed from the distant direction ``light`` (3,)."""
    origins = points + 1e-4 * normals
    directions = np.broadcast_to(light, points.shape)
    blocked = np.zeros(len(points), dtype=bool)
    for k in range(len(subject.centres)):
        _, far = _ellipsoid_roots(origins, directions, subject.centres[k], subject.radii[k])
        blocked |= np.nan_to_num(far, nan=-1.0) > 0
    return blocked
