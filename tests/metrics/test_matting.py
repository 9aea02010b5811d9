"""Matting metrics against small cases computed by hand."""

import numpy as np
import pytest

from pipeline.metrics.matting import connectivity_error, connectivity_levels, gradient_error, matting_errors, mse, sad


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
    # Gaussian derivative filters are normalised: the ramp's gradient magnitude is its slope.
    assert gradient_error(flat, ramp, unknown) == pytest.approx(256 * (1 / 31) ** 2 / 1000, rel=1e-3)


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
