"""The shared volume renderer's pieces, each against a slow reference (loops over rays and
samples) and against closed forms."""

import math

import numpy as np
import pytest
import torch

from pipeline.camera.eg3d import camera_label, orbit_camera, pixel_rays
from pipeline.render.field import FieldOutput
from pipeline.render.importance import sample_intervals, smooth_weights
from pipeline.render.march import density_activation, march
from pipeline.render.rays import camera_rays, points_along, split_cameras, stratified_depths
from pipeline.render.triplane import PLANE_AXES, sample_planes
from pipeline.render.volume import render_rays, VolumeConfig


def test_camera_rays_match_the_light_stage_rays_per_pixel():
    labels = np.stack([camera_label(orbit_camera(yaw, pitch)) for yaw, pitch in ((0.0, 0.0), (0.4, -0.2))])
    rays = camera_rays(torch.tensor(labels, dtype=torch.float64), 8)
    for k, label in enumerate(labels):
        origin, directions = pixel_rays(label, 8, 8)  # numpy, one pixel centre at a time
        np.testing.assert_allclose(rays.directions[k].numpy(), directions.reshape(-1, 3), atol=1e-12)
        np.testing.assert_allclose(rays.origins[k].numpy(), np.broadcast_to(origin, (64, 3)), atol=1e-12)
    # the centre pixel's neighbours straddle the optical axis: the mean direction is the camera's forward axis
    forward = torch.tensor(labels[0][:16].reshape(4, 4)[:3, 2])
    mean = torch.nn.functional.normalize(rays.directions[0].mean(dim=0), dim=0)
    assert torch.allclose(mean, forward, atol=1e-9)


def test_a_wrong_camera_label_is_a_clear_error():
    with pytest.raises(ValueError, match="25"):
        split_cameras(torch.zeros(2, 16))


def test_stratified_depths_put_one_sample_in_each_bin():
    depths = stratified_depths((3, 5), 2.25, 3.3, 8, generator=torch.Generator().manual_seed(0))[..., 0]
    width = (3.3 - 2.25) / 8
    bins = torch.floor((depths - 2.25) / width)
    assert torch.equal(bins, torch.arange(8.0).expand_as(bins))
    centres = stratified_depths((1, 1), 2.25, 3.3, 8, deterministic=True)[0, 0, :, 0]
    assert torch.allclose(centres, 2.25 + width * (torch.arange(8) + 0.5))


def slow_march(raw, features, depths):
    """Midpoint quadrature, one ray and one interval at a time."""
    n, rays, samples, channels = features.shape
    out = torch.zeros(n, rays, channels, dtype=torch.float64)
    opacity = torch.zeros(n, rays, dtype=torch.float64)
    for i in range(n):
        for r in range(rays):
            transmittance = 1.0
            for s in range(samples - 1):
                delta = float(depths[i, r, s + 1, 0] - depths[i, r, s, 0])
                sigma = math.log1p(math.exp(float(raw[i, r, s, 0] + raw[i, r, s + 1, 0]) / 2 - 1))
                alpha = 1 - math.exp(-sigma * delta)
                weight = alpha * transmittance
                out[i, r] += weight * (features[i, r, s] + features[i, r, s + 1]).double() / 2
                opacity[i, r] += weight
                transmittance *= 1 - alpha + 1e-10
    return out, opacity


def test_march_matches_a_loop_over_rays_and_samples():
    generator = torch.Generator().manual_seed(1)
    raw = torch.randn(2, 3, 6, 1, generator=generator, dtype=torch.float64) * 3
    features = torch.rand(2, 3, 6, 4, generator=generator, dtype=torch.float64)
    depths = torch.sort(torch.rand(2, 3, 6, 1, generator=generator, dtype=torch.float64) + 2, dim=2).values
    rendered = march(raw, features, depths)
    expected, opacity = slow_march(raw, features, depths)
    torch.testing.assert_close(rendered.features, expected)
    torch.testing.assert_close(rendered.opacity[..., 0], opacity)
    assert torch.all(rendered.depth >= depths.amin(dim=2)) and torch.all(rendered.depth <= depths.amax(dim=2))


def test_a_constant_density_slab_transmits_exp_minus_sigma_d():
    sigma, near, far = 1.7, 2.0, 2.6
    raw = torch.full((1, 1, 65, 1), math.log(math.expm1(sigma)) + 1.0, dtype=torch.float64)  # softplus(raw - 1) = sigma
    assert torch.allclose(density_activation(raw), torch.tensor(sigma, dtype=torch.float64))
    depths = torch.linspace(near, far, 65, dtype=torch.float64).reshape(1, 1, 65, 1)
    rendered = march(raw, torch.ones(1, 1, 65, 1, dtype=torch.float64), depths)
    assert abs(1 - float(rendered.opacity) - math.exp(-sigma * (far - near))) < 1e-8  # the 1e-10 guard per interval
    # the expected depth of an exponential attenuated over [near, far]
    d = far - near
    mean = near + 1 / sigma - d * math.exp(-sigma * d) / (1 - math.exp(-sigma * d))
    assert abs(float(rendered.depth) - mean) < 1e-3


def test_a_single_interval_samples_uniformly_inside_it():
    edges = torch.tensor([2.0, 2.5, 2.7, 3.0]).reshape(1, 1, 4, 1)
    weights = torch.tensor([0.0, 1.0, 0.0]).reshape(1, 1, 3, 1)
    depths = sample_intervals(edges, weights, 4000, generator=torch.Generator().manual_seed(0))[0, 0, :, 0]
    inside = (depths >= 2.5) & (depths <= 2.7)
    assert inside.float().mean() > 0.99  # the 1e-5 floor leaves a sliver elsewhere
    histogram = torch.histc(depths[inside], bins=4, min=2.5, max=2.7) / inside.sum()
    assert torch.all((histogram - 0.25).abs() < 0.03)
    even = sample_intervals(edges, weights, 5, deterministic=True)[0, 0, :, 0]
    assert torch.allclose(even[1:4], torch.tensor([2.55, 2.6, 2.65]), atol=1e-3)


def slow_quantile(edges, weights, level):
    """The inverse of the piecewise-linear CDF at one level, by walking the intervals."""
    mass = weights + 1e-5
    mass = mass / mass.sum()
    below = 0.0
    for k in range(len(mass)):
        if level <= below + mass[k] or k == len(mass) - 1:
            return edges[k] + (level - below) / mass[k] * (edges[k + 1] - edges[k])
        below += mass[k]


def test_importance_samples_are_the_cdf_quantiles():
    generator = torch.Generator().manual_seed(3)
    edges = torch.sort(torch.rand(2, 3, 7, 1, generator=generator, dtype=torch.float64), dim=2).values
    weights = smooth_weights(torch.rand(2, 3, 6, 1, generator=generator, dtype=torch.float64))
    depths = sample_intervals(edges, weights, 9, deterministic=True)
    levels = np.linspace(0, 1, 9)
    for i in range(2):
        for r in range(3):
            expected = [slow_quantile(edges[i, r, :, 0].numpy(), weights[i, r, :, 0].numpy(), q) for q in levels]
            np.testing.assert_allclose(depths[i, r, :, 0].numpy(), expected, atol=1e-9)


def test_smoothing_keeps_every_interval_and_widens_peaks():
    weights = torch.zeros(1, 1, 6, 1)
    weights[0, 0, 3] = 1.0
    smoothed = smooth_weights(weights)[0, 0, :, 0]
    assert torch.all(smoothed >= 0.01)
    assert smoothed[2] > 0.01 and smoothed[3] > 0.01 and smoothed[4] > 0.01  # the neighbours share the peak


@pytest.mark.parametrize("axes", ["released", "clean"])
def test_triplane_sampling_matches_bilinear_interpolation_by_hand(axes):
    generator = torch.Generator().manual_seed(4)
    planes = torch.rand(2, 3, 5, 6, 7, generator=generator, dtype=torch.float64)  # (N, 3, C, H, W)
    points = (torch.rand(2, 11, 3, generator=generator, dtype=torch.float64) - 0.5) * 0.9
    box_warp = 1.0
    features = sample_planes(planes, points, box_warp, axes)
    for i in range(2):
        for m in range(11):
            total = torch.zeros(5, dtype=torch.float64)
            for p, (a, b) in enumerate(PLANE_AXES[axes]):
                u, v = (float(points[i, m, a]) * 2 / box_warp, float(points[i, m, b]) * 2 / box_warp)
                x, y = (u + 1) * 7 / 2 - 0.5, (v + 1) * 6 / 2 - 0.5  # pixel coordinates, centres at integers
                x0, y0 = math.floor(x), math.floor(y)
                for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
                    xi, yi = x0 + dx, y0 + dy
                    if 0 <= xi < 7 and 0 <= yi < 6:
                        weight = (1 - abs(x - xi)) * (1 - abs(y - yi))
                        total += weight * planes[i, p, :, yi, xi]
            torch.testing.assert_close(features[i, m], total / 3)


def test_points_along_rays():
    labels = torch.tensor(camera_label(orbit_camera(0.0, 0.0))[None])
    rays = camera_rays(labels, 4)
    depths = stratified_depths((1, 16), 2.25, 3.3, 5, deterministic=True).double()
    points = points_along(rays, depths)
    distance = (points - rays.origins[:, :, None]).norm(dim=-1, keepdim=True)
    torch.testing.assert_close(distance, depths)


class Ball:
    """A field for tests: constant density ``sigma`` inside a ball of ``radius`` about the origin,
    nothing outside; features are the point's distance from the camera side (its z) and a constant."""

    def __init__(self, radius: float, sigma: float):
        self.radius, self.raw = radius, math.log(math.expm1(sigma)) + 1.0

    def __call__(self, points, directions, latent):
        inside = points.norm(dim=-1, keepdim=True) < self.radius
        raw = torch.where(inside, torch.full_like(points[..., :1], self.raw), torch.full_like(points[..., :1], -30.0))
        return FieldOutput(raw_density=raw, features=torch.cat([points[..., 2:], torch.ones_like(raw)], dim=-1))


def test_two_pass_rendering_of_a_ball_finds_its_surface():
    labels = torch.tensor(camera_label(orbit_camera(0.0, 0.0))[None])
    rays = camera_rays(labels, 16)
    ball = Ball(radius=0.3, sigma=40.0)
    config = VolumeConfig(near=2.25, far=3.3, coarse_samples=24, fine_samples=24)
    rendered = render_rays(ball, None, rays, config, deterministic=True)
    # the central rays enter the ball 2.7 - 0.3 = 2.4 from the camera; light there is absorbed at a
    # mean depth of 1 / sigma past the entry
    centre, truth = [7 * 16 + 7, 7 * 16 + 8, 8 * 16 + 7, 8 * 16 + 8], 2.4 + 1 / 40.0
    assert torch.all(rendered.opacity[0, centre] > 0.99)
    assert torch.all((rendered.depth[0, centre] - truth).abs() < 0.005)
    # 24 + 24 samples agree with 2,000 stratified ones (the converged midpoint quadrature)
    dense = render_rays(ball, None, rays, VolumeConfig(near=2.25, far=3.3, coarse_samples=2000, fine_samples=0),
                        deterministic=True)
    assert torch.all((rendered.depth[0, centre] - dense.depth[0, centre]).abs() < 0.005)
    # the corner rays miss the ball (the image spans about 0.63 world units at the origin)
    assert float(rendered.opacity[0, 0]) < 1e-6
