"""Reflectance shared by every rendering path (OLAT stacks, direct environment
lighting, the face set): Lambertian albedo / pi plus normalised Blinn-Phong
(e + 8) / (8 pi) (n.h)^e, times n.l and visibility, for a distant light of unit
irradiance. Because all paths call ``shade``, relighting from OLATs and direct
integration of an environment agree up to the discretisation of directions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.synth.raycast import occluded
from pipeline.synth.subject import LABEL, Subject, skin_variation

SKIN_LABELS = (LABEL["skin"], LABEL["neck"])


@dataclass(frozen=True)
class Surface:
    """Shading inputs of N surface samples."""

    points: np.ndarray  # (N, 3) world space
    normals: np.ndarray  # (N, 3) unit
    view: np.ndarray  # (N, 3) unit direction from the camera to the point
    albedo: np.ndarray  # (N, 3) linear
    specular: np.ndarray  # (N,)
    exponent: np.ndarray  # (N,)


def surface_albedo(subject: Subject, part: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Albedo (N, 3) of surface points of the given parts: skin varies, eyes have irises."""
    albedo = subject.albedo[part].copy()
    skin = np.isin(subject.labels[part], SKIN_LABELS)
    albedo[skin] *= skin_variation(subject, points[skin])
    for name in ("eye_r", "eye_l"):
        k = subject.part(name)
        on_eye = part == k
        if on_eye.any():
            facing = ((points[on_eye] - subject.centres[k]) / subject.radii[k])[:, 2]
            albedo[on_eye] = np.where((facing > 0.82)[:, None], subject.iris, albedo[on_eye])
            albedo[on_eye] = np.where((facing > 0.95)[:, None], 0.01, albedo[on_eye])
    return np.clip(albedo, 0.0, 0.95)


def make_surface(subject: Subject, part: np.ndarray, points: np.ndarray, normals: np.ndarray, view: np.ndarray) -> Surface:
    return Surface(points=points, normals=normals, view=view, albedo=surface_albedo(subject, part, points),
                   specular=subject.specular[part], exponent=subject.exponent[part])


def shade(subject: Subject, surface: Surface, light: np.ndarray, shadows: bool = True) -> np.ndarray:
    """Radiance (N, 3) towards the camera under a unit-irradiance distant light from ``light`` (3,)."""
    cosine = np.clip(surface.normals @ light, 0.0, None)
    lit = cosine > 0
    if shadows and lit.any():
        lit[lit] = ~occluded(subject, surface.points[lit], surface.normals[lit], light)
    half = light - surface.view
    half /= np.maximum(np.linalg.norm(half, axis=1, keepdims=True), 1e-12)  # zero when lit from straight behind
    n_dot_h = np.clip(np.einsum("ij,ij->i", surface.normals, half), 0.0, None)
    lobe = surface.specular * (surface.exponent + 8.0) / (8.0 * np.pi) * n_dot_h**surface.exponent
    brdf = surface.albedo / np.pi + lobe[:, None]
    return brdf * (cosine * lit)[:, None]
