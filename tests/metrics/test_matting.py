"""Matting metrics against small cases computed by hand."""

import numpy as np
import pytest

from pipeline.metrics.matting import (benchmark_gradient_filter, connectivity_error, connectivity_levels, gradient_error,
                                     matting_errors, mse, sad)


def test_sad_and_mse_by_hand():
    truth = np.array([[0.0, 0.5], [1.0, 1.0]])
    predicted = np.array([[0.2, 0.5], [0.6, 1.0]])
    unknown = np.array([[True, True], [True, False]])
    # |0.2| + 0 + |0.4| = 0.6 over the unknown pixels; squares 0.04 + 0 + 0.16 over 3 pixels.
    assert sad(predicted, truth, unknown) == pytest.approx(0.6 / 1000)
    assert mse(predicted, truth, unknown) == pytest.approx(0.2 / 3)


def test_errors_vanish_for_a_perfect_prediction():
    truth = np.random.default_rng(0).uniform(0, 1, (16, 16))
    unknown = np.ones_like(truth, dtype=bool)
    assert matting_errors(truth.copy(), truth, unknown) == {"sad": 0.0, "mse": 0.0, "grad": 0.0, "conn": 0.0}


def test_gradient_error_of_a_constant_offset_is_zero_and_of_a_ramp_is_its_slope():
    ramp = np.tile(np.linspace(0, 1, 32), (32, 1))  # slope 1/31 per pixel along x
    flat = np.full_like(ramp, 0.5)
    unknown = np.zeros_like(ramp, dtype=bool)
    unknown[8:24, 8:24] = True  # away from the borders, where the filter sees the whole ramp
    assert gradient_error(ramp + 0.2, ramp, unknown) == pytest.approx(0.0, abs=1e-12)
    # The filter is separable, g(row) g'(column) / N: on a ramp of slope s its response is
    # s (sum_i g(i)) (sum_j j^2 g(j) / sigma^2) / N = 9.683830838816398 s (sigma 1.4, |i|, |j| <= 4).
    assert gradient_error(flat, ramp, unknown) == pytest.approx(256 * (9.683830838816398 / 31) ** 2 / 1000, rel=1e-9)


def test_gradient_error_follows_the_benchmark_filter_to_its_truncation_radius():
    """A unit impulse at the centre of an 11 x 11 alpha, worked by hand with the benchmark's
    filter (sigma 1.4): h = ceil(1.4 sqrt(-2 ln(sqrt(2 pi) 1.4 0.01))) = ceil(3.624) = 4, and
    N = sqrt(sum g(i)^2 sum g'(j)^2) = 0.10176781915553738 over |i|, |j| <= 4. Four pixels to the
    right the x filter gives g(0) 4 g(4) / 1.4^2 / N = 0.027486976682077773 and the y filter 0
    (g'(0) = 0); five pixels to the right lies outside the filter: exactly 0 (scipy's Gaussian
    gradient, truncated at 4 sigma, reaches 6 pixels)."""
    kernel = benchmark_gradient_filter()
    assert kernel.shape == (9, 9) and abs(np.sum(kernel**2) - 1.0) < 1e-12
    impulse = np.zeros((11, 11))
    impulse[5, 5] = 1.0
    four, five = np.zeros((11, 11), bool), np.zeros((11, 11), bool)
    four[5, 9], five[5, 10] = True, True
    assert gradient_error(impulse, np.zeros((11, 11)), four) == pytest.approx(0.027486976682077773**2 / 1000, rel=1e-9)
    assert gradient_error(impulse, np.zeros((11, 11)), five) == 0.0
    # edges replicated: a step that ends at the frame's border has no gradient across that border
    step = np.zeros((11, 11))
    step[:, 6:] = 1.0
    border = np.zeros((11, 11), bool)
    border[0, :] = True  # the top row: replicated upwards, the step looks the same as mid-frame
    middle = np.zeros((11, 11), bool)
    middle[5, :] = True
    assert gradient_error(step, np.zeros((11, 11)), border) == pytest.approx(gradient_error(step, np.zeros((11, 11)), middle), rel=1e-12)


def test_connectivity_levels_by_hand():
    # Truth is one solid block; the prediction has an island at 0.9 detached from the block.
    truth = np.array([[1.0, 1.0, 0.0, 1.0],
                      [1.0, 1.0, 0.0, 1.0]])
    predicted = np.array([[1.0, 1.0, 0.0, 0.9],
                          [1.0, 1.0, 0.0, 0.9]])
    level = connectivity_levels(predicted, truth)
    # t = 0: everything is one component (>= 0 holds everywhere), so no pixel drops out.
    # t = 0.1: the block (4 px) and the island (2 px) split; the island leaves at the previous level 0.
    # The middle column (0) drops out at 0.1 too. The block stays connected up to t = 1.
    assert np.allclose(level, [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])


def test_connectivity_error_by_hand():
    truth = np.array([[1.0, 1.0, 0.0, 1.0],
                      [1.0, 1.0, 0.0, 1.0]])
    predicted = np.array([[1.0, 1.0, 0.0, 0.9],
                          [1.0, 1.0, 0.0, 0.9]])
    unknown = np.ones_like(truth, dtype=bool)
    # Island pixels: l = 0, d_p = 0.9 -> phi = 0.1; d_g = 1.0 -> phi = 0.0; |diff| = 0.1 each.
    # Block: l = 1, d = 0 -> phi = 1 for both. Middle column: d = 0 -> phi = 1 for both.
    assert connectivity_error(predicted, truth, unknown) == pytest.approx(0.2 / 1000)


def test_connectivity_takes_the_largest_foreground_component_not_the_background():
    """Mostly background: a 2 x 2 block and a one-pixel island in a 6 x 6 frame. Some public ports
    label the mask and take the most frequent label, which is the background's (0): the block
    would then drop out at the first threshold like the island."""
    alpha = np.zeros((6, 6))
    alpha[1:3, 1:3] = 1.0
    alpha[4, 4] = 1.0
    level = connectivity_levels(alpha, alpha)
    assert np.all(level[1:3, 1:3] == 1.0)  # the block holds to the last threshold
    assert level[4, 4] == 0.0  # the island leaves at once
