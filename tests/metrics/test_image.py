"""Image errors against direct computations."""

import numpy as np
import pytest

from pipeline.metrics.image import fit_scale, mae, mse, psnr, ssim


def ssim_reference(x: np.ndarray, y: np.ndarray, sigma: float = 1.5, radius: int = 5) -> float:
    """SSIM by its definition, a window at a time (reflected borders as scipy's 'reflect')."""
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    window = np.outer(taps, taps) / taps.sum() ** 2
    px, py = np.pad(x, radius, mode="symmetric"), np.pad(y, radius, mode="symmetric")
    c1, c2, values = 0.01**2, 0.03**2, []
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            a, b = px[i:i + 2 * radius + 1, j:j + 2 * radius + 1], py[i:i + 2 * radius + 1, j:j + 2 * radius + 1]
            ma, mb = (window * a).sum(), (window * b).sum()
            va, vb, cov = (window * a * a).sum() - ma**2, (window * b * b).sum() - mb**2, (window * a * b).sum() - ma * mb
            values.append(((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2)))
    return float(np.mean(values))


def test_ssim_matches_its_definition():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(14, 17))
    y = np.clip(x + rng.normal(scale=0.2, size=x.shape), 0, 1)
    assert ssim(x, y) == pytest.approx(ssim_reference(x, y), abs=1e-4)
    assert ssim(x, x) == pytest.approx(1.0)
    assert ssim(x, y) < 0.9


def test_masked_errors_and_psnr():
    predicted, target = np.zeros((4, 4, 3)), np.zeros((4, 4, 3))
    predicted[0, 0] = 0.5
    mask = np.zeros((4, 4), bool)
    mask[:2, :2] = True
    assert mae(predicted, target, mask) == pytest.approx(0.5 / 4)
    assert mse(predicted, target, mask) == pytest.approx(0.25 / 4)
    assert psnr(predicted, target, mask) == pytest.approx(10 * np.log10(16))
    assert psnr(target, target) == 100.0


def test_scale_fit_recovers_a_scale():
    target = np.random.default_rng(2).uniform(size=(5, 5, 3))
    assert fit_scale(target / 3, target) == pytest.approx(3.0)
