"""Reprojection between two views of an analytic scene: a textured plane seen from two yaws."""

import numpy as np
import torch

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.metrics.multiview import consistency_error, project
from pipeline.render.rays import camera_rays

SIDE = 48


def camera(yaw_deg: float, pitch_deg: float = 0.0) -> torch.Tensor:
    return torch.tensor(camera_label(orbit_camera(np.radians(yaw_deg), np.radians(pitch_deg)))[None], dtype=torch.float64)


def plane_view(cameras: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The plane z = 0 with a smooth texture: image (1, 3, S, S) and ray distance (1, 1, S, S)."""
    rays = camera_rays(cameras, SIDE)
    t = -rays.origins[..., 2] / rays.directions[..., 2]
    p = rays.origins + t[..., None] * rays.directions
    texture = torch.stack([0.5 + 0.5 * torch.sin(6 * p[..., 0]) * torch.cos(4 * p[..., 1]),
                           0.5 + 0.5 * torch.cos(5 * p[..., 0] + 3 * p[..., 1]), 0.3 + 0 * p[..., 0]], dim=1)
    return texture.reshape(1, 3, SIDE, SIDE), t.reshape(1, 1, SIDE, SIDE)


def test_projection_inverts_the_rays():
    cameras = camera(25.0, 10.0)
    rays = camera_rays(cameras, 4)
    uv, distance = project(rays.origins + 2.5 * rays.directions, cameras)
    centres = (torch.arange(4, dtype=torch.float64) + 0.5) / 4
    v, u = torch.meshgrid(centres, centres, indexing="ij")
    assert torch.allclose(uv[0], torch.stack([u.flatten(), v.flatten()], -1), atol=1e-12)
    assert torch.allclose(distance, torch.full_like(distance, 2.5))


def test_one_scene_from_two_yaws_is_consistent_and_another_is_not():
    a, b = camera(-15.0), camera(15.0)
    (image_a, depth_a), (image_b, depth_b) = plane_view(a), plane_view(b)
    error, share = consistency_error(image_a, depth_a, a, image_b, depth_b, b)
    assert share > 0.9 and error < 0.01
    wrong, _ = consistency_error(image_a.flip(-1), depth_a, a, image_b, depth_b, b)  # not the same scene
    assert wrong > 10 * error
    occluded, hidden_share = consistency_error(image_a, depth_a - 0.5, a, image_b, depth_b, b)  # A sees something nearer
    assert hidden_share == 0.0 and occluded != occluded  # nothing co-visible: NaN, not a made-up number
