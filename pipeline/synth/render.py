"""Render one subject from one camera: G-buffers and the OLAT stack.

OLAT image i is the subject lit by a distant light from direction d_i that
delivers unit irradiance at normal incidence; pixels are premultiplied by
coverage (black background, as a light stage's). Relighting with an
environment L is then ``sum_i w_i OLAT_i`` with ``w_i`` = the mean radiance of
light i's Voronoi cell times its solid angle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.camera.eg3d import pixel_rays, split_label
from pipeline.light.sphere import LightSet
from pipeline.synth.subject import Subject, intersect, occluded


@dataclass(frozen=True)
class ViewRender:
    """Everything a light stage (plus ground truth) gives for one subject and view.

    Per-pixel quantities are averaged over the covered sub-pixel samples; where
    nothing is covered they are zero.
    """

    olat: np.ndarray  # (L, H, W, 3) linear radiance, premultiplied by alpha
    alpha: np.ndarray  # (H, W) coverage in [0, 1]
    normals: np.ndarray  # (H, W, 3) unit, camera space (OpenCV axes: x right, y down, z forward)
    albedo: np.ndarray  # (H, W, 3) linear diffuse albedo
    depth: np.ndarray  # (H, W) distance along the camera's z axis
    specular: np.ndarray  # (H, W, 2) Blinn-Phong strength and exponent


def shade_olat(subject: Subject, part: np.ndarray, points: np.ndarray, normals: np.ndarray,
               view_dirs: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Radiance (N, 3) towards the camera of surface samples under one unit-irradiance light.

    Lambertian albedo / pi plus normalised Blinn-Phong (e + 8) / (8 pi) (n.h)^e,
    both times n.l and visibility.
    """
    cosine = np.clip(normals @ light, 0.0, None)
    lit = (cosine > 0) & ~occluded(subject, points, normals, light)
    half = light - view_dirs
    half /= np.maximum(np.linalg.norm(half, axis=1, keepdims=True), 1e-12)  # zero when lit from straight behind
    exponent = subject.exponent[part]
    lobe = (exponent + 8.0) / (8.0 * np.pi) * np.clip(np.einsum("ij,ij->i", normals, half), 0.0, None) ** exponent
    brdf = subject.albedo[part] / np.pi + (subject.specular[part] * lobe)[:, None]
    return brdf * (cosine * lit)[:, None]


def render_view(subject: Subject, camera: np.ndarray, lights: LightSet, resolution: int, supersample: int) -> ViewRender:
    """Render ``subject`` through the 25-float ``camera`` at ``resolution`` squared."""
    s = supersample
    origin, rays = pixel_rays(camera, resolution, resolution, s)
    rays = rays.reshape(-1, 3)
    hits = intersect(subject, origin, rays)
    covered = hits.part >= 0
    part, points, normals = hits.part[covered], hits.points[covered], hits.normals[covered]
    view_dirs = rays[covered]

    def pool(values: np.ndarray, normalise: bool) -> np.ndarray:
        """Box-filter sub-pixel samples (N_covered, C) to pixels (H, W, C)."""
        full = np.zeros((len(rays), values.shape[1]))
        full[covered] = values
        summed = full.reshape(resolution, s, resolution, s, -1).sum(axis=(1, 3))
        if not normalise:
            return summed / (s * s)
        count = covered.reshape(resolution, s, resolution, s).sum(axis=(1, 3))[..., None]
        return np.divide(summed, count, out=np.zeros_like(summed), where=count > 0)

    cam2world, _ = split_label(camera)
    world_to_cam = cam2world[:3, :3].T
    cam_normals = pool(normals @ world_to_cam.T, normalise=True)
    length = np.linalg.norm(cam_normals, axis=-1, keepdims=True)
    cam_normals = np.divide(cam_normals, length, out=np.zeros_like(cam_normals), where=length > 0)
    z_cam = ((points - origin) @ world_to_cam.T)[:, 2:3]
    olat = np.stack([
        pool(shade_olat(subject, part, points, normals, view_dirs, light), normalise=False)
        for light in lights.directions
    ])
    return ViewRender(
        olat=olat,
        alpha=pool(np.ones((len(part), 1)), normalise=False)[..., 0],
        normals=cam_normals,
        albedo=pool(subject.albedo[part], normalise=True),
        depth=pool(z_cam, normalise=True)[..., 0],
        specular=pool(np.stack([subject.specular[part], subject.exponent[part]], axis=1), normalise=True),
    )
