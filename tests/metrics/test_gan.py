"""FID, KID and SWD against closed forms and limiting cases; the Inception network's checks."""

import numpy as np
import pytest
import torch

from pipeline import DataError
from pipeline.metrics.gan import (frechet_distance, Inception, kernel_distance, laplacian_pyramid, sliced_wasserstein,
                                  swd)


def test_fid_is_zero_for_one_set_and_the_squared_shift_for_a_shifted_one():
    a = np.random.default_rng(0).standard_normal((500, 8))
    a -= a.mean(0)  # so that 2a keeps the mean
    assert abs(frechet_distance(a, a)) < 1e-8
    shift = np.array([1.0, -2.0, 0.5, 0, 0, 0, 0, 3.0])
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), abs=1e-8)
    scaled = frechet_distance(a, 2 * a)  # same mean; covariances C and 4C: tr(C + 4C - 2 * 2C) = tr(C)
    assert scaled == pytest.approx(np.trace(np.cov(a, rowvar=False)), rel=1e-6)


def test_fid_of_few_and_of_many_features_agrees_with_the_matrix_square_root():
    import scipy.linalg

    rng = np.random.default_rng(6)
    for n_a, n_b in ((12, 9), (200, 150)):  # fewer features than dimensions (16), and more
        a = rng.standard_normal((n_a, 16)) @ rng.standard_normal((16, 16))
        b = rng.standard_normal((n_b, 16)) + 0.5
        cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        direct = (np.square(a.mean(0) - b.mean(0)).sum() + np.trace(cov_a + cov_b)
                  - 2 * np.trace(scipy.linalg.sqrtm(cov_a @ cov_b).real))
        assert frechet_distance(a, b) == pytest.approx(direct, rel=1e-6)


def test_kid_is_unbiased_near_zero_for_one_distribution_and_grows_with_the_difference():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((400, 16)), rng.standard_normal((400, 16))
    same, spread = kernel_distance(a, b, subsets=50, subset_size=200, rng=np.random.default_rng(2))
    assert abs(same) < 3 * spread / np.sqrt(50) + 1e-3
    near, _ = kernel_distance(a, b + 0.3, subsets=50, subset_size=200, rng=np.random.default_rng(2))
    far, _ = kernel_distance(a, b + 1.0, subsets=50, subset_size=200, rng=np.random.default_rng(2))
    assert 0 < near < far


def test_sliced_wasserstein_of_one_dimension_is_the_mean_gap_of_sorted_values():
    a = np.random.default_rng(3).standard_normal((300, 1))
    assert sliced_wasserstein(a, a + 0.25, directions=8) == pytest.approx(0.25)  # every direction is +-1
    assert sliced_wasserstein(a, a[::-1].copy(), directions=8) == 0.0  # order does not matter


def test_the_laplacian_pyramid_rebuilds_the_image():
    x = torch.rand(2, 3, 64, 64, dtype=torch.float64)
    levels = laplacian_pyramid(x)
    assert [level.shape[-1] for level in levels] == [64, 32, 16]
    from pipeline.metrics.gan import _blur
    image = levels[-1]
    for detail in reversed(levels[:-1]):
        image = detail + _blur(torch.nn.functional.interpolate(image, scale_factor=2, mode="nearest"))
    assert torch.allclose(image, x)


def test_swd_sees_lost_detail_at_the_fine_levels():
    import cv2

    rng = np.random.default_rng(4)
    sharp = rng.integers(0, 256, (64, 64, 64, 3), dtype=np.uint8)
    other = rng.integers(0, 256, (64, 64, 64, 3), dtype=np.uint8)
    blurred = np.stack([cv2.GaussianBlur(p, (0, 0), 1.5) for p in sharp])
    alike, unlike = swd(sharp, other), swd(sharp, blurred)
    assert set(alike) == {"swd_64", "swd_32", "swd_16", "swd_mean"}
    assert unlike["swd_64"] > 3 * alike["swd_64"] and unlike["swd_64"] > unlike["swd_16"]
    # patches are drawn afresh for each set, so one set against itself sits at the sampling floor too
    assert swd(sharp, sharp)["swd_64"] == pytest.approx(alike["swd_64"], rel=0.3)


def test_the_inception_file_is_checked_before_it_is_loaded(tmp_path):
    fake = tmp_path / "default_1.pt"
    fake.write_bytes(b"not the network")
    with pytest.raises(DataError, match="sha256 .* not the Inception network's"):
        Inception(path=fake)


def test_inception_features_are_2048_wide_and_tell_pictures_apart():
    net = Inception()
    rng = np.random.default_rng(5)
    pictures = np.concatenate([rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8), np.zeros((1, 64, 64, 3), np.uint8)])
    features = net.features(pictures, batch=2)
    assert features.shape == (3, 2048) and np.isfinite(features).all() and (features >= 0).all()  # after a ReLU
    assert np.abs(features[0] - features[1]).max() < np.abs(features[0] - features[2]).max()  # noise vs black
    assert np.array_equal(net.features(pictures[:1]), features[:1])
    with pytest.raises(ValueError, match="uint8"):
        net.features(pictures.astype(np.float32))
