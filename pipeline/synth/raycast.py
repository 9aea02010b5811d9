"""Ray casting against a subject (``subject.py``): surface hits, shadows and the hair layer.

The body (head, eyes, mouth, neck, clothing) and the hair shell are two triangle
meshes, each with its BVH (``meshcast``, NVIDIA Warp). Primary rays find the
nearest body triangle; normals are the interpolated vertex normals (smooth
shading), turned towards the ray where it meets a triangle's back. Shadow rays
are blocked by the body and attenuated by the hair they cross (its transmittance,
from the same optical depth that gives the hair its alpha), so the hair, nose and
ears cast shadows, thick hair a full one and a thin hairline a partial one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.synth.hair import density as hair_density, MEAN_DENSITY
from pipeline.synth.subject import HAIR_DENSITY, HAIR_FUZZ_DENSITY, HAIR_FUZZ_RAMP, SCALE, Subject
from pipeline.synth.texture import smoothstep, value_noise

EPSILON = 2e-4  # world units: how far shadow and continuation rays start off a surface
MAX_HAIR_CROSSINGS = 4  # faces a ray walks through in overlapping hair volumes before it is taken to be out
@dataclass(frozen=True)
class Hits:
    """Nearest body hits of N rays; ``region`` is -1 where a ray misses."""

    depth: np.ndarray  # (N,) distance along the ray (inf where missed)
    region: np.ndarray  # (N,) index into subject.REGIONS
    points: np.ndarray  # (N, 3)
    normals: np.ndarray  # (N, 3) unit; zero where missed
    uv: np.ndarray  # (N, 2) the subject's texture coordinates; zero where missed


@dataclass(frozen=True)
class Fuzz:
    """The hair layer each ray crosses: its opacity, and where it is shaded."""

    alpha: np.ndarray  # (N,) in [0, 1)
    points: np.ndarray  # (N, 3) where the ray enters the hair
    normals: np.ndarray  # (N, 3)
    uv: np.ndarray  # (N, 2) of the scalp under the entry point


def _corner_uv(corner_uv: np.ndarray, face: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.einsum("nk,nkd->nd", weights, corner_uv[face])


def intersect(subject: Subject, origins: np.ndarray, directions: np.ndarray) -> Hits:
    """Nearest body hit of rays ``origins`` (N, 3) or (3,) + t ``directions`` (N, 3), unit directions."""
    n = len(directions)
    origins = np.broadcast_to(origins, (n, 3))
    hits = subject.body.closest(origins, directions)
    hit = hits.hit
    face = hits.face[hit]
    depth = np.where(hit, hits.t, np.inf).astype(np.float64)
    points = origins + directions * np.where(hit, depth, 0.0)[:, None]
    normals = np.zeros((n, 3))
    smooth = subject.body.interpolate(hits, subject.normals)[hit].astype(np.float64)
    back = np.einsum("ij,ij->i", subject.face_normals[face], directions[hit]) > 0
    smooth[back] *= -1.0
    normals[hit] = smooth / np.maximum(np.linalg.norm(smooth, axis=1, keepdims=True), 1e-12)
    region = np.full(n, -1, dtype=np.int64)
    region[hit] = subject.region[face]
    uv = np.zeros((n, 2))
    uv[hit] = _corner_uv(subject.corner_uv, face, hits.weights[hit])
    return Hits(depth=depth, region=region, points=points, normals=normals, uv=uv)


def visibility(subject: Subject, points: np.ndarray, normals: np.ndarray, light: np.ndarray) -> np.ndarray:
    """How much of a distant light from direction ``light`` (3,), or one per point (N, 3), reaches
    surface points (N, 3): 0
    where the body blocks it, else the hair layer's transmittance along the shadow ray (thin hair
    casts a partial shadow, thick hair a full one)."""
    origins = points + EPSILON * normals
    directions = np.broadcast_to(np.asarray(light, dtype=np.float64), points.shape)
    seen = (~subject.body.occluded(origins, directions)).astype(np.float64)
    if subject.shell is not None and seen.any():
        free = np.flatnonzero(seen)
        optical = _hair_depth(subject, origins[free], directions[free], np.full(len(free), np.inf), detail=False)[0]
        seen[free] = np.exp(-optical)
    return seen


def _hair_depth(subject: Subject, origins: np.ndarray, directions: np.ndarray, depth: np.ndarray, detail: bool = True):
    """Optical depth (N,) of the hair along rays up to ``depth``, and where each ray first meets the
    shell: (index of the rays that do, entry distance, the shell hits). A ray that starts inside
    the shell (its first hit leaves it) is counted from its origin. ``detail=False`` takes the
    strands' mean density instead of their noise (shadows, which blur it anyway)."""
    shell = subject.shell
    optical = np.zeros(len(directions))
    first = shell.closest(origins, directions)
    meets = np.flatnonzero(first.hit & (first.t < depth))
    if not len(meets):
        return optical, meets, np.zeros(0), first
    d = directions[meets]
    t_first = first.t[meets].astype(np.float64)
    leaving = np.einsum("ij,ij->i", subject.shell_face_normals[first.face[meets]], d) > 0
    start = np.where(leaving, 0.0, t_first)
    t_out = _hair_exit(subject, origins[meets], d, t_first, leaving, depth[meets])
    t_end = np.minimum(t_out, depth[meets])
    length = np.where(np.isfinite(t_end), t_end - start, 0.0)
    middle = origins[meets] + d * ((start + length / 2)[:, None])
    penetration = shell.distance(middle, max_distance=_full_density_depth(subject)) / SCALE
    fuzz = np.einsum("nk,nk->n", first.weights[meets], subject.shell_fuzz[subject.shell_faces[first.face[meets]]])
    density = hair_density(subject.local(origins[meets] + d * start[:, None]), subject.hair.seed) if detail else MEAN_DENSITY
    profile = HAIR_FUZZ_DENSITY + (1 - HAIR_FUZZ_DENSITY) * smoothstep(0.0, HAIR_FUZZ_RAMP, penetration - fuzz)
    optical[meets] = HAIR_DENSITY * (length / SCALE) * density * profile
    return optical, meets, t_first, first


def _hair_exit(subject: Subject, origins: np.ndarray, directions: np.ndarray, t_first: np.ndarray, leaving: np.ndarray,
               depth: np.ndarray) -> np.ndarray:
    """Where rays (N,) that first meet the shell at ``t_first`` (through a face they are ``leaving``,
    or entering) have left every hair volume they entered: the volumes may overlap (long hair's
    curtain starts inside the scalp's shell), so the ray walks on from face to face, counting
    entries and exits, until it is outside all of them, meets nothing more, or passes ``depth``
    (its body hit). inf where it meets nothing more while inside."""
    inside = np.where(leaving, 0, 1)
    at = t_first.copy()
    t_out = np.where(leaving, t_first, np.inf)
    walking = np.flatnonzero(~leaving)
    for _ in range(MAX_HAIR_CROSSINGS):
        if not len(walking):
            break
        d = directions[walking]
        hits = subject.shell.closest(origins[walking] + d * (at[walking] + EPSILON)[:, None], d)
        found = hits.hit
        at[walking] = np.where(found, at[walking] + EPSILON + hits.t, np.inf)
        out = np.einsum("ij,ij->i", subject.shell_face_normals[np.maximum(hits.face, 0)], d) > 0
        inside[walking] += np.where(found, np.where(out, -1, 1), 0)
        done = ~found | (inside[walking] == 0) | (at[walking] >= depth[walking])
        t_out[walking[done]] = at[walking[done]]
        walking = walking[~done]
    return t_out


def _full_density_depth(subject: Subject) -> float:
    """World units below the shell past which every point of it has the full strand density: the
    deepest fuzz plus the ramp (with a 1 % margin for rounding). The nearest-point search looks no
    further, which is what makes it cheap; a farther point's profile would be 1 all the same."""
    return 1.01 * SCALE * (float(subject.shell_fuzz.max()) + HAIR_FUZZ_RAMP)


def hair_layer(subject: Subject, origins: np.ndarray, directions: np.ndarray, depth: np.ndarray) -> Fuzz:
    """The hair each ray crosses before ``depth`` (its body hit; inf where none)."""
    n = len(directions)
    origins = np.broadcast_to(origins, (n, 3))
    alpha, points, normals, uv = np.zeros(n), np.zeros((n, 3)), np.zeros((n, 3)), np.zeros((n, 2))
    if subject.shell is None:
        return Fuzz(alpha=alpha, points=points, normals=normals, uv=uv)
    optical, enters, t_in, first = _hair_depth(subject, origins, directions, depth)
    if len(enters):
        alpha[enters] = 1.0 - np.exp(-optical[enters])
        faces = first.face[enters]
        smooth = np.einsum("nk,nkd->nd", first.weights[enters], subject.shell_normals[subject.shell_faces[faces]])
        normals[enters] = smooth / np.maximum(np.linalg.norm(smooth, axis=1, keepdims=True), 1e-12)
        points[enters] = origins[enters] + directions[enters] * t_in[:, None]
        uv[enters] = _corner_uv(subject.shell_uv, faces, first.weights[enters])
    return Fuzz(alpha=alpha, points=points, normals=normals, uv=uv)

