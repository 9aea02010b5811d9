"""Render a subject through a camera: G-buffers, OLAT stacks and environment lighting.

Each pixel is supersampled s x s. A sample sees the solid surface (or nothing)
through the hair layer: its radiance is ``a_f * fuzz + (1 - a_f) * solid`` and
its coverage ``a_f + (1 - a_f) * hit``. Images are premultiplied (black
background, as a light stage's); G-buffers are coverage-weighted means over a
pixel's samples, zero where nothing is covered.

OLAT image i is the subject under a distant light from direction d_i of unit
irradiance; relighting with an environment is ``sum_i w_i OLAT_i`` with w_i the
mean radiance of light i's Voronoi cell times its solid angle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.camera.eg3d import pixel_rays, split_label
from pipeline.light.tonemap import unpremultiply
from pipeline.io.datasets import LABELS
from pipeline.synth.raycast import hair_layer, intersect
from pipeline.synth.shading import Surface, light_visibility, make_surface, shade
from pipeline.synth.subject import REGION, Subject


@dataclass(frozen=True)
class Samples:
    """Sub-pixel samples of one view: where the solid surface and the fuzz are seen."""

    resolution: int
    supersample: int
    origin: np.ndarray  # (3,) camera centre
    rays: np.ndarray  # (S, 3) unit directions, S = (resolution * supersample)^2
    hit: np.ndarray  # (S,) bool
    region: np.ndarray  # (S,) subject.REGIONS index, -1 where missed
    solid: Surface  # the hit samples only
    fuzz_alpha: np.ndarray  # (S,)
    fuzzy: np.ndarray  # (S,) bool: fuzz_alpha > 0
    fuzz: Surface  # the fuzzy samples only
    depth: np.ndarray  # (S,) ray distance to the solid hit (inf where missed)
    solid_uv: np.ndarray  # (hit samples, 2) texture coordinates
    fuzz_uv: np.ndarray  # (fuzzy samples, 2) of the scalp under the hair

    @property
    def coverage(self) -> np.ndarray:
        return self.fuzz_alpha + (1.0 - self.fuzz_alpha) * self.hit


@dataclass(frozen=True)
class ViewRender:
    olat: np.ndarray  # (L, H, W, 3) linear radiance, premultiplied by alpha
    alpha: np.ndarray  # (H, W)
    foreground: np.ndarray  # (H, W, 3) un-premultiplied colour under a uniform environment of radiance 1
    normals: np.ndarray  # (H, W, 3) unit, camera space (OpenCV axes: x right, y down, z forward)
    albedo: np.ndarray  # (H, W, 3) linear
    depth: np.ndarray  # (H, W) camera z
    uv: np.ndarray  # (H, W, 2) the subject's texture coordinates (anny's layout; the torso in its free corner)
    specular: np.ndarray  # (H, W, 2) Blinn-Phong strength and exponent
    labels: np.ndarray  # (H, W) uint8 semantic labels (pipeline.io.datasets.LABELS)


def trace(subject: Subject, camera: np.ndarray, resolution: int, supersample: int) -> Samples:
    """Cast every sub-pixel ray of ``camera`` (25 floats) at the subject."""
    origin, rays = pixel_rays(camera, resolution, resolution, supersample)
    rays = rays.reshape(-1, 3)
    hits = intersect(subject, origin, rays)
    hit = hits.region >= 0
    fuzz = hair_layer(subject, origin, rays, hits.depth)
    fuzzy = fuzz.alpha > 0
    hair = np.full(int(fuzzy.sum()), REGION["hair"])
    return Samples(
        resolution=resolution, supersample=supersample, origin=origin, rays=rays, hit=hit, region=hits.region,
        solid=make_surface(subject, hits.region[hit], hits.points[hit], hits.normals[hit], rays[hit]),
        fuzz_alpha=fuzz.alpha, fuzzy=fuzzy,
        fuzz=make_surface(subject, hair, fuzz.points[fuzzy], fuzz.normals[fuzzy], rays[fuzzy]),
        depth=hits.depth, solid_uv=hits.uv[hit], fuzz_uv=fuzz.uv[fuzzy],
    )


def blend(samples: Samples, solid_values: np.ndarray, fuzz_values: np.ndarray) -> np.ndarray:
    """Per-sample ``a_f * fuzz + (1 - a_f) * solid`` (S, C), premultiplied by coverage."""
    out = np.zeros((len(samples.rays), solid_values.shape[1]))
    out[samples.hit] = solid_values * (1.0 - samples.fuzz_alpha[samples.hit, None])
    out[samples.fuzzy] += fuzz_values * samples.fuzz_alpha[samples.fuzzy, None]
    return out


def pool(samples: Samples, values: np.ndarray) -> np.ndarray:
    """Box-filter per-sample values (S, C) to pixels (H, W, C)."""
    r, s = samples.resolution, samples.supersample
    return values.reshape(r, s, r, s, -1).mean(axis=(1, 3))


def pool_mean(samples: Samples, solid_values: np.ndarray, fuzz_values: np.ndarray) -> np.ndarray:
    """Coverage-weighted mean per pixel (H, W, C) of a G-buffer quantity; zero where uncovered."""
    summed = pool(samples, blend(samples, solid_values, fuzz_values))
    weight = pool(samples, samples.coverage[:, None])
    return np.divide(summed, weight, out=np.zeros_like(summed), where=weight > 1e-9)


def lit_image(subject: Subject, samples: Samples, light: np.ndarray) -> np.ndarray:
    """Premultiplied image (H, W, 3) under one unit-irradiance distant light."""
    return pool(samples, blend(samples, shade(subject, samples.solid, light), shade(subject, samples.fuzz, light)))


def weighted_image(subject: Subject, samples: Samples, directions: np.ndarray, weights: np.ndarray,
                   rays_per_call: int = 1 << 19) -> np.ndarray:
    """Premultiplied image (H, W, 3) under distant lights (J, 3) with RGB weights (J, 3); shadow
    rays of several lights are cast together (``light_visibility``; the same image for any
    ``rays_per_call``)."""
    used = np.flatnonzero(np.any(weights > 0, axis=1))
    solid = np.zeros((int(samples.hit.sum()), 3))
    fuzz = np.zeros((int(samples.fuzzy.sum()), 3))
    for j, seen_solid, seen_fuzz in zip(used, light_visibility(subject, samples.solid, directions[used], rays_per_call),
                                        light_visibility(subject, samples.fuzz, directions[used], rays_per_call)):
        solid += shade(subject, samples.solid, directions[j], visible=seen_solid) * weights[j]
        fuzz += shade(subject, samples.fuzz, directions[j], visible=seen_fuzz) * weights[j]
    return pool(samples, blend(samples, solid, fuzz))


def label_map(samples: Samples) -> np.ndarray:
    """The most common label among each pixel's samples (hair where the hair layer is mostly opaque)."""
    per_sample = np.zeros(len(samples.rays), dtype=np.int64)
    per_sample[samples.hit] = samples.solid.labels
    per_sample[samples.fuzz_alpha > 0.5] = LABELS.index("hair")
    counts = pool(samples, np.eye(len(LABELS))[per_sample])
    return counts.argmax(axis=-1).astype(np.uint8)


def render_view(subject: Subject, camera: np.ndarray, directions: np.ndarray, solid_angles: np.ndarray,
                resolution: int, supersample: int) -> ViewRender:
    """OLAT stack under lights ``directions`` (L, 3) and every G-buffer of one view."""
    samples = trace(subject, camera, resolution, supersample)
    olat = np.stack([lit_image(subject, samples, d) for d in directions])
    alpha = pool(samples, samples.coverage[:, None])[..., 0]
    uniform = np.tensordot(solid_angles, olat, axes=1)
    foreground = unpremultiply(uniform, alpha)
    cam2world, _ = split_label(camera)
    to_camera = cam2world[:3, :3]  # columns are the camera axes in world space
    solid, fuzz = samples.solid, samples.fuzz
    normals = pool_mean(samples, solid.normals @ to_camera, fuzz.normals @ to_camera)
    length = np.linalg.norm(normals, axis=-1, keepdims=True)

    def camera_z(surface: Surface) -> np.ndarray:
        return ((surface.points - samples.origin) @ to_camera[:, 2])[:, None]

    def specular(surface: Surface) -> np.ndarray:
        return np.stack([surface.specular, surface.exponent], axis=1)

    return ViewRender(
        olat=olat, alpha=alpha, foreground=foreground,
        normals=np.divide(normals, length, out=np.zeros_like(normals), where=length > 1e-9),
        albedo=pool_mean(samples, solid.albedo, fuzz.albedo),
        depth=pool_mean(samples, camera_z(solid), camera_z(fuzz))[..., 0],
        uv=pool_mean(samples, samples.solid_uv, samples.fuzz_uv),
        specular=pool_mean(samples, specular(solid), specular(fuzz)),
        labels=label_map(samples),
    )
