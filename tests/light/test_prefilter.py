"""Light-map prefiltering against slow, obvious references (loops over the map's pixels)."""

import math

import numpy as np
import pytest

from pipeline.light import equirect
from pipeline.light.prefilter import PHONG_EXPONENTS, diffuse_map, light_maps, phong_map
from pipeline.light.reference import loop_filter
from pipeline.light.relight import light_weights
from pipeline.light.sh import project_sh, sh_basis, sh_diffuse


@pytest.fixture(scope="module")
def small_env():
    return np.random.default_rng(0).uniform(0.0, 2.0, (6, 12, 3))


def test_diffuse_matches_the_loop(small_env):
    assert np.allclose(diffuse_map(small_env, 3), loop_filter(small_env, 3, 1.0, 1 / math.pi), rtol=1e-10)


@pytest.mark.parametrize("exponent", PHONG_EXPONENTS)
def test_phong_matches_the_loop(small_env, exponent):
    reference = loop_filter(small_env, 3, exponent, (exponent + 1) / (2 * math.pi))
    assert np.allclose(phong_map(small_env, 3, exponent), reference, rtol=1e-10)


def test_sh_matches_the_loop(small_env):
    height, width = small_env.shape[:2]
    coefficients = np.zeros((9, 3))
    for a in range(height):
        for b in range(width):
            d = equirect.pixel_directions(height)[a, b]
            coefficients += np.outer(sh_basis(d), small_env[a, b]) * equirect.pixel_solid_angles(height)[a, b]
    assert np.allclose(project_sh(small_env), coefficients, rtol=1e-10)


@pytest.mark.parametrize("exponent", (None,) + PHONG_EXPONENTS)
def test_a_constant_environment_gives_its_radiance(exponent):
    c = np.array([0.3, 1.0, 2.5])
    env = np.broadcast_to(c, (64, 128, 3))
    maps = diffuse_map(env, 8) if exponent is None else phong_map(env, 8, exponent)
    assert np.allclose(maps, c, rtol=0.01)  # the residue is the map's discretisation of the lobe
    assert np.allclose(sh_diffuse(project_sh(env), equirect.pixel_directions(8)), c, rtol=1e-3)


def test_sh_is_exact_for_band_limited_light():
    # Radiance that is a quadratic polynomial of the direction lies in SH bands 0-2, so the
    # 9-coefficient irradiance is exact (up to the map's quadrature).
    d = equirect.pixel_directions(64)
    env = (1.0 + 0.5 * d[..., 1:2] + 0.3 * d[..., 0:1] * d[..., 2:3] + 0.2 * (d[..., 0:1] ** 2 - d[..., 1:2] ** 2)) * [1, 0.8, 0.6]
    exact = diffuse_map(env, 8)
    assert np.abs(sh_diffuse(project_sh(env), equirect.pixel_directions(8)) / exact - 1).max() < 2e-3


def test_light_maps_bundle_shapes():
    env = np.random.default_rng(1).uniform(0, 1, (16, 32, 3))
    maps = light_maps(env, 4)
    assert maps["diffuse"].shape == maps["diffuse_sh"].shape == (4, 8, 3)
    assert maps["phong"].shape == (len(PHONG_EXPONENTS), 4, 8, 3) and maps["sh"].shape == (9, 3)


def test_rotating_the_map_rotates_its_light_maps():
    env = np.random.default_rng(2).uniform(0, 1, (16, 32, 3))
    for k in (1, 3):  # light-map columns; the map turns by 4 of its columns per light-map column
        turned = light_maps(equirect.rotate(env, 4 * k), 4)
        original = light_maps(env, 4)
        for name in ("diffuse", "diffuse_sh"):
            assert np.allclose(turned[name], equirect.rotate(original[name], k), atol=1e-12)
        assert np.allclose(turned["phong"], np.roll(original["phong"], k, axis=2), atol=1e-12)


def test_light_weights_conserve_energy():
    env = np.random.default_rng(3).uniform(0, 1, (16, 32, 3))
    directions = np.random.default_rng(4).normal(size=(20, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    total = (env * equirect.pixel_solid_angles(16)[..., None]).sum(axis=(0, 1))
    assert np.allclose(light_weights(env, directions).sum(axis=0), total)


def test_equirect_sample_hits_pixel_centres():
    env = np.random.default_rng(5).uniform(0, 1, (8, 16, 3))
    assert np.allclose(equirect.sample(env, equirect.pixel_directions(8)), env)
