"""Matting errors of Rhemann et al. (2009), over the unknown pixels of a trimap.

Alphas are in [0, 1]. SAD, Grad and Conn are divided by 1000, as published
tables (alphamatting.com, Deep Image Matting's Composition-1k) divide them, and
each follows the benchmark's evaluation script, so that our figures can be set
beside published ones:

- SAD: sum of absolute differences.
- MSE: mean squared difference over the unknown pixels (not divided by 1000).
- Grad: squared difference of gradient magnitudes, each from the script's
  first-order Gaussian-derivative filters (sigma 1.4, half-size where the
  Gaussian falls to 1e-2, the 2-D kernel divided by its own L2 norm, edges
  replicated; ``benchmark_gradient_filter``). scipy's
  ``gaussian_gradient_magnitude`` normalises differently (a ramp's magnitude is
  its slope there, 9.68 times its slope here) and truncates at 4 sigma.
- Conn: the script's connectivity, with the largest 4-connected component of
  the pixels both alphas hold at each threshold.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

GRAD_SIGMA = 1.4
GRAD_CUTOFF = 1e-2  # the filter reaches to where the Gaussian itself falls to this
CONN_STEP = 0.1
CONN_THETA = 0.15


def sad(predicted: np.ndarray, truth: np.ndarray, unknown: np.ndarray) -> float:
    return float(np.abs(predicted - truth)[unknown].sum() / 1000.0)


def mse(predicted: np.ndarray, truth: np.ndarray, unknown: np.ndarray) -> float:
    return float(((predicted - truth) ** 2)[unknown].sum() / max(int(unknown.sum()), 1))


def benchmark_gradient_filter(sigma: float = GRAD_SIGMA, cutoff: float = GRAD_CUTOFF) -> np.ndarray:
    """The evaluation script's x-derivative filter (2h + 1, 2h + 1): g(row) g'(column), with g the
    normalised Gaussian and g' its derivative, h = ceil(sigma sqrt(-2 ln(sqrt(2 pi) sigma cutoff)))
    (where g falls to ``cutoff``; 4 for sigma 1.4), divided by its L2 norm. Its transpose is the
    y filter."""
    half = int(np.ceil(sigma * np.sqrt(-2.0 * np.log(np.sqrt(2.0 * np.pi) * sigma * cutoff))))
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    gauss = np.exp(-(offsets**2) / (2.0 * sigma**2)) / (sigma * np.sqrt(2.0 * np.pi))
    derivative = -offsets * gauss / sigma**2
    kernel = gauss[:, None] * derivative[None, :]
    return kernel / np.sqrt(np.sum(kernel**2))


def gradient_magnitude(alpha: np.ndarray, sigma: float = GRAD_SIGMA) -> np.ndarray:
    """|(alpha * h_x, alpha * h_y)| with the benchmark's filters, as a convolution with replicated
    edges."""
    kernel = benchmark_gradient_filter(sigma)
    alpha = alpha.astype(np.float64)
    return np.hypot(ndimage.convolve(alpha, kernel, mode="nearest"), ndimage.convolve(alpha, kernel.T, mode="nearest"))


def gradient_error(predicted: np.ndarray, truth: np.ndarray, unknown: np.ndarray, sigma: float = GRAD_SIGMA) -> float:
    """Sum over unknown pixels of the squared difference of the two gradient magnitudes, / 1000."""
    difference = gradient_magnitude(predicted, sigma) - gradient_magnitude(truth, sigma)
    return float((difference**2)[unknown].sum() / 1000.0)


def _largest_component(mask: np.ndarray) -> np.ndarray:
    labels, count = ndimage.label(mask)  # 4-connected in 2D
    if count == 0:
        return np.zeros_like(mask)
    sizes = np.bincount(labels.ravel())[1:]
    return labels == (1 + int(np.argmax(sizes)))


def connectivity_levels(predicted: np.ndarray, truth: np.ndarray, step: float = CONN_STEP) -> np.ndarray:
    """Per pixel, the highest threshold t (multiple of ``step``) at which the pixel still
    belongs to the largest 4-connected component of {predicted >= t and truth >= t}."""
    thresholds = np.round(np.arange(0.0, 1.0 + step / 2, step), 10)
    level = np.full(predicted.shape, np.nan)
    for previous, threshold in zip(thresholds[:-1], thresholds[1:]):
        largest = _largest_component((predicted >= threshold) & (truth >= threshold))
        level[np.isnan(level) & ~largest] = previous
    return np.where(np.isnan(level), 1.0, level)


def connectivity_error(predicted: np.ndarray, truth: np.ndarray, unknown: np.ndarray,
                       step: float = CONN_STEP, theta: float = CONN_THETA) -> float:
    """sum |phi(a_p) - phi(a_g)| / 1000 with phi(a) = 1 - d [d >= theta], d = a - l."""
    level = connectivity_levels(predicted, truth, step)

    def phi(alpha: np.ndarray) -> np.ndarray:
        d = alpha - level
        return 1.0 - d * (d >= theta)

    return float(np.abs(phi(predicted) - phi(truth))[unknown].sum() / 1000.0)


def matting_errors(predicted: np.ndarray, truth: np.ndarray, unknown: np.ndarray) -> dict[str, float]:
    return {"sad": sad(predicted, truth, unknown), "mse": mse(predicted, truth, unknown),
            "grad": gradient_error(predicted, truth, unknown), "conn": connectivity_error(predicted, truth, unknown)}
