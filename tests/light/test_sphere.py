import numpy as np
import pytest

from pipeline.light.equirect import direction_to_pixel, pixel_directions, pixel_solid_angles
from pipeline.light.sphere import uniform_light_set


@pytest.mark.parametrize("count", [8, 64, 257])
def test_light_set_is_unit_and_covers_the_sphere(count):
    lights = uniform_light_set(count)
    assert np.allclose(np.linalg.norm(lights.directions, axis=1), 1.0)
    assert lights.solid_angles.sum() == pytest.approx(4 * np.pi, rel=1e-9)
    # near-uniform: no cell is far from the mean
    assert lights.solid_angles.max() / lights.solid_angles.min() < 1.5


def test_voronoi_cells_agree_with_monte_carlo():
    lights = uniform_light_set(16)
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(1_000_000, 3))
    samples /= np.linalg.norm(samples, axis=1, keepdims=True)
    nearest = np.argmax(samples @ lights.directions.T, axis=1)
    estimate = np.bincount(nearest, minlength=16) / len(samples) * 4 * np.pi
    assert np.allclose(estimate, lights.solid_angles, atol=0.015)  # ~5 sigma


def test_equirect_solid_angles_match_sin_theta_integral():
    height = 32
    omega = pixel_solid_angles(height)
    assert omega.sum() == pytest.approx(4 * np.pi, rel=1e-12)
    # Slow, obvious reference: integrate sin(theta) over each row's band with a fine Riemann sum.
    edges = np.linspace(0, np.pi, height + 1)
    for row in (0, height // 3, height // 2):
        theta = np.linspace(edges[row], edges[row + 1], 10_001)
        band = np.trapezoid(np.sin(theta), theta)
        assert omega[row, 0] == pytest.approx(band * 2 * np.pi / (2 * height), rel=1e-6)


def test_equirect_directions_round_trip():
    height = 16
    directions = pixel_directions(height)
    rows, cols = direction_to_pixel(directions, height)
    r, c = np.meshgrid(np.arange(height), np.arange(2 * height), indexing="ij")
    assert np.allclose(rows, r) and np.allclose(cols, c)
    centre = directions[height // 2, height]  # the map's centre looks along -z
    assert centre[2] < -0.99
