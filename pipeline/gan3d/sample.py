"""Pictures of a trained 3D-aware generator: grids of seeds by yaw, and turntables.

Every generator (EG3D, pi-GAN) answers ``views(z, cameras, conditioning, truncation)``: the
heads of z (N, z_dim) seen from cameras (N, 25), rendered deterministically (bin centres,
evenly spaced importance quantiles) and without noise inputs, as a ``Generated`` with
``image`` in [-1, 1], ``raw`` (the rendering before any super-resolution) and ``depth``; and
``z_dim``. A generator without conditioning (pi-GAN) ignores it.

A seed's z is ``numpy.random.default_rng(seed).standard_normal(z_dim)``, so seed 3 is the
same head in every grid, turntable and evaluation. The conditioning camera is held at the
frontal pose while the rendering camera moves (EG3D's inference rule: the conditioning
carries pose-correlated attributes, the camera carries the view).
"""

from __future__ import annotations

import numpy as np
import torch

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.gan3d.data import from_signed
from pipeline.io.sheet import grid, label

GRID_YAWS = (-30.0, -15.0, 0.0, 15.0, 30.0)  # degrees


def cameras(yaws: list[float] | tuple[float, ...], pitch: float = 0.0) -> torch.Tensor:
    """EG3D cameras (K, 25) on the orbit at each yaw (degrees, positive to the subject's left), one pitch (degrees, up)."""
    labels = [camera_label(orbit_camera(np.radians(yaw), np.radians(pitch))) for yaw in yaws]
    return torch.from_numpy(np.stack(labels)).float()


def seed_latents(seeds: list[int], z_dim: int) -> torch.Tensor:
    return torch.from_numpy(np.stack([np.random.default_rng(s).standard_normal(z_dim) for s in seeds])).float()


@torch.no_grad()
def render_views(generator: torch.nn.Module, z: torch.Tensor, views: torch.Tensor, truncation: float = 1.0,
                 batch: int = 8) -> np.ndarray:
    """Every z (S, z_dim) from every camera (K, 25), conditioned on the frontal camera:
    uint8 pictures (S, K, R, R, 3)."""
    device = next(generator.parameters()).device
    z, views = z.to(device), views.to(device)
    frontal = cameras([0.0]).to(device)
    pairs = [(i, k) for i in range(len(z)) for k in range(len(views))]
    pictures = []
    for start in range(0, len(pairs), batch):
        chunk = pairs[start:start + batch]
        c = views[[k for _, k in chunk]]
        out = generator.views(z[[i for i, _ in chunk]], c, frontal.expand(len(chunk), -1), truncation)
        pictures.append(from_signed(out.image))
    return np.concatenate(pictures).reshape(len(z), len(views), *pictures[0].shape[1:])


def sample_grid(generator: torch.nn.Module, seeds: list[int], yaws=GRID_YAWS, pitch: float = 0.0,
                truncation: float = 1.0, scale: int = 1) -> np.ndarray:
    """A picture: one row per seed, one column per yaw, labelled; pixels repeated ``scale`` times."""
    pictures = render_views(generator, seed_latents(seeds, generator.z_dim), cameras(yaws, pitch), truncation)
    pictures = pictures.repeat(scale, axis=2).repeat(scale, axis=3)
    return grid([[label(p, f"seed {s} yaw {y:+.0f}") for p, y in zip(row, yaws)] for s, row in zip(seeds, pictures)])


def turntable(generator: torch.nn.Module, seed: int, frames: int, yaw_range: float = 35.0, pitch: float = 0.0,
              pitch_range: float = 8.0, truncation: float = 1.0) -> np.ndarray:
    """Frames (F, R, R, 3) of one head orbiting: yaw swings within +-``yaw_range`` degrees and
    pitch nods within +-``pitch_range`` about ``pitch``, one full cycle; conditioning fixed."""
    t = np.linspace(0.0, 2 * np.pi, frames, endpoint=False)
    views = [camera_label(orbit_camera(np.radians(yaw_range * np.sin(a)), np.radians(pitch + pitch_range * np.cos(a))))
             for a in t]
    z = seed_latents([seed], generator.z_dim)
    return render_views(generator, z, torch.from_numpy(np.stack(views)).float(), truncation)[0]


@torch.no_grad()
def render_conditioned(generator: torch.nn.Module, z: torch.Tensor, views: torch.Tensor, truncation: float = 1.0,
                       batch: int = 16) -> np.ndarray:
    """Each z (N, z_dim) rendered from its camera (N, 25), conditioned on that same camera (as
    EG3D's metrics draw them): uint8 pictures (N, R, R, 3)."""
    device = next(generator.parameters()).device
    pictures = []
    for start in range(0, len(z), batch):
        c = views[start:start + batch].to(device)
        pictures.append(from_signed(generator.views(z[start:start + batch].to(device), c, c, truncation).image))
    return np.concatenate(pictures)


@torch.no_grad()
def view_pair(generator: torch.nn.Module, z: torch.Tensor, yaw: float, batch: int = 16) -> tuple:
    """Each z (N, z_dim) seen from yaw -``yaw`` and +``yaw`` degrees, conditioned on the frontal
    camera: two ``Generated`` (image, raw and depth, concatenated over the batches) and the two
    cameras (1, 25)."""
    device = next(generator.parameters()).device
    frontal, left, right = (cameras([angle]).to(device) for angle in (0.0, -yaw, yaw))
    views = {id(left): [], id(right): []}
    for start in range(0, len(z), batch):
        chunk = z[start:start + batch].to(device)
        for camera in (left, right):
            views[id(camera)].append(generator.views(chunk, camera.expand(len(chunk), -1),
                                                     frontal.expand(len(chunk), -1)))
    joined = [type(parts[0])(*(torch.cat(field) for field in zip(*parts))) for parts in views.values()]
    return joined[0], joined[1], left, right
