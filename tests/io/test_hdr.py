"""Real HDR maps: both formats read back, bad maps are refused by name, big maps are area-averaged."""

import numpy as np
import pytest

from pipeline import DataError
from pipeline.io.hdr import load_equirect, read_hdr_image, resize_equirect, write_exr, write_hdr


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
        load_equirect(wide, 8)
    corrupt = tmp_path / f"corrupt{suffix}"
    corrupt.write_bytes(b"definitely not an image")
    with pytest.raises(DataError, match=str(corrupt)):
        load_equirect(corrupt, 8)


def test_nan_and_negative_radiance_are_refused(tmp_path, env):
    bad = env.copy()
    bad[3, 4, 1] = np.nan
    write_exr(tmp_path / "nan.exr", bad)
    with pytest.raises(DataError, match="nan.exr: contains NaN"):
        load_equirect(tmp_path / "nan.exr", 8)
    bad = env.copy()
    bad[0, 0, 0] = -1.0
    write_exr(tmp_path / "negative.exr", bad)
    with pytest.raises(DataError, match="negative.exr: contains negative"):
        load_equirect(tmp_path / "negative.exr", 8)


def test_downsampling_averages_areas_not_points():
    # A one-pixel sun on a large map must keep its energy when shrunk; point sampling would
    # either lose it entirely or blow it up.
    big = np.full((256, 512, 3), 0.1, dtype=np.float32)
    big[100, 200] = 1e4
    small = resize_equirect(big, 16)
    assert small.shape == (16, 32, 3)
    assert small.sum() == pytest.approx(big.sum() / 256, rel=1e-4)
    assert small[100 // 16, 200 // 16, 0] == pytest.approx(0.1 + (1e4 - 0.1) / 256, rel=1e-4)
