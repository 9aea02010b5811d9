"""Real HDR maps: both formats read back, bad maps are refused by name, big maps are area-averaged."""

import numpy as np
import pytest

from pipeline import DataError
from pipeline.io.hdr import clear_negatives, load_equirect, read_hdr_image, resize_equirect, write_exr, write_hdr


@pytest.fixture
def env():
    rng = np.random.default_rng(0)
    return rng.uniform(0.0, 4.0, (16, 32, 3)).astype(np.float32)


def test_exr_round_trips_exactly(tmp_path, env):
    write_exr(tmp_path / "map.exr", env)
    assert np.array_equal(read_hdr_image(tmp_path / "map.exr"), env)


def test_radiance_hdr_round_trips_to_rgbe_precision(tmp_path, env):
    write_hdr(tmp_path / "map.hdr", env)
    back = read_hdr_image(tmp_path / "map.hdr")
    assert back.shape == env.shape
    assert np.abs(back - env).max() <= env.max() / 128  # RGBE keeps an 8-bit mantissa per pixel


@pytest.mark.parametrize("suffix", [".hdr", ".exr"])
def test_bad_maps_are_named(tmp_path, env, suffix):
    writer = write_exr if suffix == ".exr" else write_hdr
    wide = tmp_path / f"square{suffix}"
    writer(wide, env[:, :16])
    with pytest.raises(DataError, match=f"{wide}: an equirectangular map must be twice as wide"):
        load_equirect(wide, 8, 1e-5)
    corrupt = tmp_path / f"corrupt{suffix}"
    corrupt.write_bytes(b"definitely not an image")
    with pytest.raises(DataError, match=str(corrupt)):
        load_equirect(corrupt, 8, 1e-5)


def test_nan_and_negative_radiance_are_refused(tmp_path, env):
    bad = env.copy()
    bad[3, 4, 1] = np.nan
    write_exr(tmp_path / "nan.exr", bad)
    with pytest.raises(DataError, match="nan.exr: contains NaN"):
        load_equirect(tmp_path / "nan.exr", 8, 1e-5)
    bad = env.copy()
    bad[8, 0:4, 0] = -1.0  # at the equator: about 1e-3 of the map's energy, far from negligible
    write_exr(tmp_path / "negative.exr", bad)
    with pytest.raises(DataError, match=r"negative.exr: negative radiance carries 0.00\d+ of the map's energy \(minimum -1 in 4 pixels\)"):
        load_equirect(tmp_path / "negative.exr", 8, 1e-5)


def test_downsampling_averages_areas_not_points():
    """A one-pixel sun on a large map keeps its energy (radiance times solid angle) when shrunk;
    point sampling would lose it or blow it up, and a plain mean would scale it by the ratio of
    its row's solid angle to its output row's."""
    from pipeline.light.equirect import pixel_solid_angles

    big = np.full((256, 512, 3), 0.1, dtype=np.float32)
    big[100, 200] = 1e4
    small = resize_equirect(big, 16)
    assert small.shape == (16, 32, 3)
    omega_big, omega_small = pixel_solid_angles(256), pixel_solid_angles(16)
    assert np.sum(small[..., 0] * omega_small) == pytest.approx(np.sum(big[..., 0] * omega_big), rel=1e-6)
    # the sun's output pixel holds the sky plus the sun's energy over its own solid angle
    sun = 0.1 + (1e4 - 0.1) * omega_big[100, 200] / omega_small[100 // 16, 200 // 16]
    assert small[100 // 16, 200 // 16, 0] == pytest.approx(sun, rel=1e-5)
    assert np.allclose(np.delete(small[..., 0].ravel(), 6 * 32 + 12), 0.1, rtol=1e-6)


def test_negative_share_worked_by_hand(tmp_path):
    """A 2 x 4 map of ones with one value of -0.5: both rows span the same solid angle
    (pi/2 * (cos 0 - cos pi/2) and pi/2 * (cos pi/2 - cos pi)), so the negative energy's share is
    0.5 / (23 + 0.5)."""
    image = np.ones((2, 4, 3), dtype=np.float32)
    image[1, 2, 0] = -0.5
    cleared, found = clear_negatives("m.exr", image, max_share=0.05)
    assert found.pixels == 1 and found.minimum == -0.5
    assert abs(found.share - 0.5 / 23.5) < 1e-12
    assert cleared.min() == 0.0 and cleared[1, 2, 0] == 0.0 and cleared.sum() == 23.0
    with pytest.raises(DataError, match=r"m.exr: negative radiance carries 0.0213 of the map's energy \(minimum -0.5 in 1 pixels\)"):
        clear_negatives("m.exr", image, max_share=0.01)
    untouched, none = clear_negatives("m.exr", np.abs(image), max_share=0.0)
    assert none.pixels == 0 and none.share == 0.0 and np.array_equal(untouched, np.abs(image))


def sun_map(height: int, sun: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A sky about 0.8 with a 2 x 2 pixel sun 450,000 times its median, and a speckle of small
    negatives (0.5 % of the pixels, down to -0.004) like those real maps carry."""
    rng = np.random.default_rng(seed)
    image = (0.5 + 0.6 * rng.uniform(size=(height, 2 * height, 1)) * np.array([0.8, 0.9, 1.0])).astype(np.float32)
    image[sun[0]: sun[0] + 2, sun[1]: sun[1] + 2] = 450_000 * float(np.median(image.mean(axis=-1)))
    speckle = rng.uniform(size=(height, 2 * height)) < 0.005
    image[speckle, 1] = -rng.uniform(0, 0.004, int(speckle.sum()))
    return image


def test_a_real_like_map_keeps_its_energy_and_its_sun(tmp_path):
    """Area averaging of a map with a 450,000 : 1 sun and negative speckle: the energy (each
    pixel by its solid angle) stays within 1e-4, the brightest pixel is the one holding the sun,
    and the light maps come out finite with the diffuse map brightest facing the sun."""
    from pipeline.light.equirect import direction_to_pixel, pixel_directions, pixel_solid_angles
    from pipeline.light.prefilter import light_maps

    full = sun_map(256, sun=(60, 300))
    write_exr(tmp_path / "sun.exr", full)
    small, negatives = load_equirect(tmp_path / "sun.exr", 16, max_negative_share=1e-5)
    assert negatives.pixels == int((full < 0).any(axis=-1).sum()) > 100 and 0 < negatives.share < 1e-6
    assert np.isfinite(small).all() and small.min() >= 0
    energy = lambda m: np.sum(np.maximum(m, 0) * pixel_solid_angles(m.shape[0])[..., None], axis=(0, 1))
    assert np.allclose(energy(small), energy(full), rtol=1e-4)
    sun = pixel_directions(256)[60:62, 300:302].reshape(-1, 3).mean(axis=0)
    row, col = direction_to_pixel(sun / np.linalg.norm(sun), 16)
    brightest = np.unravel_index(np.argmax(small.sum(axis=-1)), small.shape[:2])
    assert brightest == (int(round(row)), int(round(col)))
    maps = light_maps(small, 8)
    assert all(np.isfinite(v).all() for v in maps.values())
    diffuse = maps["diffuse"].sum(axis=-1)
    facing = pixel_directions(8)[np.unravel_index(np.argmax(diffuse), diffuse.shape)]
    assert facing @ (sun / np.linalg.norm(sun)) > np.cos(np.radians(20))
