"""Multi-view consistency of a 3D-aware generator: one view reprojected into another with the
rendered depth, compared on the pixels both see.

For each pixel of view B, its rendered depth (distance along the ray) gives a world point;
the point is projected into view A, whose image and depth are sampled there (bilinear). The
pixel is co-visible when it projects inside A, in front of it, and A's own depth there
agrees with the point's distance from A within ``tolerance`` (otherwise something occludes
it in A). A 3D-consistent generator gives a small photometric error on co-visible pixels; a
super-resolution that invents detail per view, or a field that is not one scene, a large one.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch.nn import functional as F

from pipeline.render.rays import camera_rays, points_along, split_cameras


class Reprojection(NamedTuple):
    warped: torch.Tensor  # (N, C, H, W) view A's image sampled where B's pixels land in A
    covisible: torch.Tensor  # (N, 1, H, W) bool


def project(points: torch.Tensor, cameras: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """World points (N, M, 3) -> normalised image coordinates (N, M, 2) in [0, 1] across the
    image (x right, y down) and distances from the camera centre (N, M), for EG3D cameras (N, 25)."""
    cam2world, intrinsics = split_cameras(cameras)
    rotation, centre = cam2world[:, :3, :3], cam2world[:, None, :3, 3]
    local = (points - centre) @ rotation  # rows of R^T (p - c): camera axes
    z = local[..., 2:3]
    x, y = local[..., 0:1] / z, local[..., 1:2] / z
    fx, fy = intrinsics[:, None, 0, 0, None], intrinsics[:, None, 1, 1, None]
    cx, cy, skew = intrinsics[:, None, 0, 2, None], intrinsics[:, None, 1, 2, None], intrinsics[:, None, 0, 1, None]
    uv = torch.cat([fx * x + skew * y + cx, fy * y + cy], dim=-1)
    uv = torch.where(z > 0, uv, torch.full_like(uv, -1.0))  # behind the camera: outside
    return uv, (points - centre).norm(dim=-1)


def reproject(image_a: torch.Tensor, depth_a: torch.Tensor, cameras_a: torch.Tensor, depth_b: torch.Tensor,
              cameras_b: torch.Tensor, tolerance: float) -> Reprojection:
    """View A (image (N, C, H, W), depth (N, 1, h, w), ray distances) seen from view B's pixels,
    placed by B's depth (N, 1, h, w); depths are brought to the image's size (bilinear)."""
    n, _, height, width = image_a.shape
    size = (height, width)
    depth_a = F.interpolate(depth_a, size=size, mode="bilinear", align_corners=False)
    depth_b = F.interpolate(depth_b, size=size, mode="bilinear", align_corners=False)
    rays = camera_rays(cameras_b, height)  # square images: one side
    points = points_along(rays, depth_b.reshape(n, -1, 1, 1)).reshape(n, -1, 3)
    uv, distance = project(points, cameras_a)
    grid = (uv * 2 - 1).reshape(n, height, width, 2)
    warped = F.grid_sample(image_a, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    seen = F.grid_sample(depth_a, grid, mode="bilinear", padding_mode="border", align_corners=False)
    inside = ((uv >= 0) & (uv <= 1)).all(dim=-1).reshape(n, 1, height, width)
    agrees = (seen - distance.reshape(n, 1, height, width)).abs() < tolerance
    return Reprojection(warped, inside & agrees)


def consistency_error(image_a: torch.Tensor, depth_a: torch.Tensor, cameras_a: torch.Tensor, image_b: torch.Tensor,
                      depth_b: torch.Tensor, cameras_b: torch.Tensor, tolerance: float = 0.03) -> tuple[float, float]:
    """(mean absolute difference per channel between B and A warped to B over co-visible pixels,
    the co-visible share of B's pixels). Images in any common range (the caller states it)."""
    warp = reproject(image_a, depth_a, cameras_a, depth_b, cameras_b, tolerance)
    mask = warp.covisible.expand_as(image_b)
    share = float(warp.covisible.float().mean())
    if not bool(mask.any()):
        return float("nan"), share
    return float((image_b - warp.warped).abs()[mask].mean()), share
