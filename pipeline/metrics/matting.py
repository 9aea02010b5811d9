"""Matting errors of Rhemann et al. (2009), over the unknown pixels of a trimap.

Alphas are in [0, 1]. SAD, Grad and Conn are divided by 1000, as published.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

GRAD_SIGMA = 1.4
CONN_STEP = 0.1
CONN_THETA = 0.15


def sad(predicted: np.ndarray, truth: np.ndarray, unknown: np.ndarray) -> float:
    return float(np.abs(predicted - truth)[unknown].sum() / 1000.0)


def mse(predicted: np.ndarray, truth: np.ndarray, unknown: np.ndarray) -> float:
    return float(((predicted - truth) ** 2)[unknown].sum() / max(int(unknown.sum()), 1))


def gradient_error(predicted: np.ndarray, truth: np.ndarray, unknown: np.ndarray, sigma: float = GRAD_SIGMA) -> float:
    """Sum over unknown pixels of the squared difference of gradient magnitudes, each from
    first-order Gaussian derivative filters of width ``sigma``."""
    magnitude_p = ndimage.gaussian_gradient_magnitude(predicted.astype(np.float64), sigma)
    magnitude_t = ndimage.gaussian_gradient_magnitude(truth.astype(np.float64), sigma)
    return float(((magnitude_p - magnitude_t) ** 2)[unknown].sum() / 1000.0)


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
