"""Camera rays and depth samples along them, for any batch of EG3D cameras, on any device.

A camera is EG3D's 25-float label: a 4 x 4 camera-to-world matrix (OpenCV axes: x
right, y down, z forward) flattened row-major, then the 3 x 3 intrinsics with focal
lengths and principal point as fractions of the image size. A pixel's ray goes
through its centre, ``(i + 0.5) / resolution`` in normalised image coordinates.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class Rays(NamedTuple):
    origins: torch.Tensor  # (N, R, 3) world space, the camera's centre for every ray
    directions: torch.Tensor  # (N, R, 3) unit, world space


def split_cameras(cameras: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 25) labels -> camera-to-world matrices (N, 4, 4) and normalised intrinsics (N, 3, 3)."""
    if cameras.dim() != 2 or cameras.shape[1] != 25:
        raise ValueError(f"cameras must be (N, 25) EG3D labels, got {tuple(cameras.shape)}")
    return cameras[:, :16].reshape(-1, 4, 4), cameras[:, 16:].reshape(-1, 3, 3)


def camera_rays(cameras: torch.Tensor, resolution: int) -> Rays:
    """One ray per pixel centre of a ``resolution`` x ``resolution`` image, row-major (R = resolution^2),
    for each camera of ``cameras`` (N, 25). The intrinsics' skew, if any, is honoured."""
    cam2world, intrinsics = split_cameras(cameras)
    centres = (torch.arange(resolution, device=cameras.device, dtype=cameras.dtype) + 0.5) / resolution
    v, u = torch.meshgrid(centres, centres, indexing="ij")  # rows are y (down), columns x (right)
    u, v = u.reshape(1, -1), v.reshape(1, -1)  # (1, R)
    fx, fy = intrinsics[:, 0, 0, None], intrinsics[:, 1, 1, None]
    cx, cy, skew = intrinsics[:, 0, 2, None], intrinsics[:, 1, 2, None], intrinsics[:, 0, 1, None]
    y = (v - cy) / fy
    x = (u - cx - skew * y) / fx
    local = torch.stack([x, y, torch.ones_like(x)], dim=-1)  # (N, R, 3) camera space, z = 1
    directions = torch.nn.functional.normalize(local @ cam2world[:, :3, :3].transpose(1, 2), dim=-1)
    origins = cam2world[:, None, :3, 3].expand_as(directions)
    return Rays(origins, directions)


def stratified_depths(shape: tuple[int, int], near: float, far: float, samples: int,
                      generator: torch.Generator | None = None, deterministic: bool = False,
                      device: torch.device | str = "cpu") -> torch.Tensor:
    """Depths (N, R, samples, 1) along each ray in [near, far]: the range cut into ``samples``
    equal bins and one uniform draw in each (its centre with ``deterministic``). Sorted along a ray.
    (EG3D's release draws ``linspace(near, far, samples)`` plus up to one spacing, so its last
    sample can pass ``far``; these stay inside the range.)"""
    n, rays = shape
    width = (far - near) / samples
    starts = near + width * torch.arange(samples, device=device, dtype=torch.float32)
    if deterministic:
        offsets = torch.full((n, rays, samples), 0.5, device=device)
    else:
        offsets = torch.rand((n, rays, samples), generator=generator, device=device)
    return (starts + width * offsets)[..., None]


def points_along(rays: Rays, depths: torch.Tensor) -> torch.Tensor:
    """World points (N, R, S, 3) at ``depths`` (N, R, S, 1) along ``rays``."""
    return rays.origins[:, :, None] + depths * rays.directions[:, :, None]
