"""Image errors: MAE, MSE, PSNR over a mask, SSIM, and a least-squares scale fit."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def _masked(predicted: np.ndarray, target: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The pixels under ``mask`` (H, W) of two images (H, W[, C]) as flat arrays."""
    if mask is None:
        return np.asarray(predicted, np.float64).ravel(), np.asarray(target, np.float64).ravel()
    mask = np.asarray(mask, bool)
    return np.asarray(predicted, np.float64)[mask].ravel(), np.asarray(target, np.float64)[mask].ravel()


def mae(predicted: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
    p, t = _masked(predicted, target, mask)
    return float(np.abs(p - t).mean())


def mse(predicted: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
    p, t = _masked(predicted, target, mask)
    return float(((p - t) ** 2).mean())


def psnr(predicted: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None, peak: float = 1.0) -> float:
    """10 log10(peak^2 / MSE) in dB; capped at 100 dB for identical images."""
    error = mse(predicted, target, mask)
    return float(min(10 * np.log10(peak**2 / error), 100.0)) if error > 0 else 100.0


def fit_scale(predicted: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> float:
    """The scalar s minimising ||s p - t||^2 over the mask."""
    p, t = _masked(predicted, target, mask)
    denominator = float(p @ p)
    return float(p @ t) / denominator if denominator > 0 else 1.0


def ssim(predicted: np.ndarray, target: np.ndarray, sigma: float = 1.5, peak: float = 1.0) -> float:
    """Structural similarity (Wang et al. 2004) with an 11-tap Gaussian window (sigma 1.5),
    K1 = 0.01, K2 = 0.03, averaged over pixels and channels. Images (H, W[, C]) in [0, peak]."""
    x, y = np.asarray(predicted, np.float64), np.asarray(target, np.float64)
    if x.ndim == 2:
        x, y = x[..., None], y[..., None]
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    blur = lambda image: ndimage.gaussian_filter(image, sigma=(sigma, sigma, 0), truncate=3.5, mode="reflect")  # noqa: E731
    mu_x, mu_y = blur(x), blur(y)
    var_x, var_y, cov = blur(x * x) - mu_x**2, blur(y * y) - mu_y**2, blur(x * y) - mu_x * mu_y
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return float(index.mean())
