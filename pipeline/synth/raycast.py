"""Exact ray casting against a subject's ellipsoid parts: hits, shadows, fuzz.

Visibility is the hard union of the parts (the hair cap only above the
hairline). Normals blend the gradients of nearby head parts, as a smooth union
would, so shading has no creases where parts meet. Shadows are cast by the
large parts (``Subject.occluder``); the fuzz layer neither casts shadows nor
receives them from itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.synth.subject import Subject, hair_mask

BLEND = 0.012  # distance over which neighbouring head parts' normals blend
BLENDED = ("cranium", "jaw", "nose", "ear_r", "ear_l", "neck")
EPSILON = 1e-4


@dataclass(frozen=True)
class Hits:
    """Nearest surface hits of N rays; ``part`` is -1 where a ray misses."""

    depth: np.ndarray  # (N,) distance along the ray
    part: np.ndarray  # (N,) int index into the subject's parts
    points: np.ndarray  # (N, 3)
    normals: np.ndarray  # (N, 3) unit; zero where missed


@dataclass(frozen=True)
class Fuzz:
    """The soft hair layer each ray grazes: opacity and where it is shaded."""

    alpha: np.ndarray  # (N,) in [0, 1)
    points: np.ndarray  # (N, 3) on the hair cap
    normals: np.ndarray  # (N, 3)


def ellipsoid_roots(origins: np.ndarray, directions: np.ndarray, centre: np.ndarray, radii: np.ndarray):
    """Entry and exit distances (N,) of rays (N, 3) through an ellipsoid; NaN where they miss."""
    o = (origins - centre) / radii
    d = directions / radii
    a = np.einsum("ij,ij->i", d, d)
    b = np.einsum("ij,ij->i", o, d)
    c = np.einsum("ij,ij->i", o, o) - 1.0
    disc = b * b - a * c
    with np.errstate(invalid="ignore"):
        root = np.sqrt(disc)
    return (-b - root) / a, (-b + root) / a


def ellipsoid_normals(points: np.ndarray, centre: np.ndarray, radii: np.ndarray) -> np.ndarray:
    gradient = (points - centre) / radii**2
    return gradient / np.linalg.norm(gradient, axis=-1, keepdims=True)


def intersect(subject: Subject, origins: np.ndarray, directions: np.ndarray) -> Hits:
    """Nearest hit of rays ``origins`` (N, 3) + t ``directions`` (N, 3), unit directions."""
    n = len(directions)
    origins = np.broadcast_to(origins, (n, 3))
    depth = np.full(n, np.inf)
    part = np.full(n, -1)
    hair = subject.part("hair")
    for k in range(len(subject.names)):
        near, _ = ellipsoid_roots(origins, directions, subject.centres[k], subject.radii[k])
        closer = (np.nan_to_num(near, nan=np.inf) < depth) & (near > 0)
        if k == hair:
            closer[closer] = hair_mask(subject, origins[closer] + directions[closer] * near[closer, None])
        depth[closer], part[closer] = near[closer], k
    hit = part >= 0
    points = origins + directions * np.where(hit, depth, 0.0)[:, None]
    normals = np.zeros((n, 3))
    normals[hit] = smooth_normals(subject, points[hit], part[hit])
    return Hits(depth=depth, part=part, points=points, normals=normals)


def smooth_normals(subject: Subject, points: np.ndarray, part: np.ndarray) -> np.ndarray:
    """Unit normals (N, 3) at surface points of the given parts, blended across head parts."""
    normals = np.zeros_like(points)
    blended = [subject.part(name) for name in BLENDED]
    for k in range(len(subject.names)):
        own = part == k
        if k in blended:
            relative = (points - subject.centres[k]) / subject.radii[k]
            k0 = np.linalg.norm(relative, axis=1)
            k1 = np.linalg.norm(relative / subject.radii[k], axis=1)
            distance = np.maximum(k0 * (k0 - 1.0) / np.maximum(k1, 1e-12), 0.0)  # ellipsoid distance bound
            weight = np.where(own | np.isin(part, blended), np.exp(-distance / BLEND), 0.0)
        else:
            weight = own.astype(np.float64)
        if weight.any():
            normals += weight[:, None] * ellipsoid_normals(points, subject.centres[k], subject.radii[k])
    return normals / np.linalg.norm(normals, axis=1, keepdims=True)


def occluded(subject: Subject, points: np.ndarray, normals: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Whether surface points (N, 3) are shadowed from the distant direction ``light`` (3,)."""
    origins = points + EPSILON * normals
    directions = np.broadcast_to(light, points.shape)
    blocked = np.zeros(len(points), dtype=bool)
    hair = subject.part("hair")
    for k in np.flatnonzero(subject.occluder):
        near, far = ellipsoid_roots(origins, directions, subject.centres[k], subject.radii[k])
        if k != hair:
            blocked |= np.nan_to_num(far, nan=-1.0) > EPSILON
            continue
        # The cap counts only where the shadow ray crosses it above the hairline.
        entering = np.nan_to_num(near, nan=-1.0) > EPSILON
        leaving = ~entering & (np.nan_to_num(far, nan=-1.0) > EPSILON)
        crossing = np.where(entering, near, np.where(leaving, far, 0.0))
        candidates = entering | leaving
        if candidates.any():
            blocked[candidates] |= hair_mask(subject, origins[candidates] + directions[candidates] * crossing[candidates, None])
    return blocked


def fuzz_layer(subject: Subject, origins: np.ndarray, directions: np.ndarray, depth: np.ndarray,
               thickness: float, strands: float) -> Fuzz:
    """Soft hair: rays passing within ``thickness`` of the hair cap, above the hairline and in
    front of whatever they hit, gain opacity that falls off with distance and varies by strand."""
    k = subject.part("hair")
    centre, radii = subject.centres[k], subject.radii[k]
    n = len(directions)
    origins = np.broadcast_to(origins, (n, 3))
    o = (origins - centre) / radii
    d = directions / radii
    t = -np.einsum("ij,ij->i", o, d) / np.einsum("ij,ij->i", d, d)
    closest = o + d * t[:, None]
    reach = np.linalg.norm(closest, axis=1)
    distance = (reach - 1.0) * radii.mean()
    on_cap = centre + radii * closest / reach[:, None]
    angle = np.arctan2(on_cap[:, 0] - centre[0], on_cap[:, 2] - centre[2])
    strand = 0.55 + 0.45 * np.sin(strands * angle + 40.0 * on_cap[:, 1]) * np.sin(0.37 * strands * angle)
    falloff = np.clip(1.0 - distance / thickness, 0.0, 1.0) ** 1.5
    visible = (distance > 0) & (t > 0) & (t < depth) & hair_mask(subject, on_cap)
    alpha = np.where(visible, 0.97 * falloff * strand, 0.0)
    return Fuzz(alpha=alpha, points=on_cap, normals=ellipsoid_normals(on_cap, centre, radii))
