"""From linear radiance to pictures: compositing and exposure."""

from __future__ import annotations

import numpy as np

LUMINANCE = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 weights of linear RGB


def composite(premultiplied: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """C = alpha F + (1 - alpha) B with F premultiplied: (H, W, 3) arrays, alpha (H, W) or (H, W, 1)."""
    alpha = alpha if alpha.ndim == premultiplied.ndim else alpha[..., None]
    return premultiplied + (1.0 - alpha) * background


def unpremultiply(premultiplied: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight colour (H, W, C) of a premultiplied image; zero where alpha (H, W) is (nearly) zero."""
    return np.divide(premultiplied, alpha[..., None], out=np.zeros_like(premultiplied), where=alpha[..., None] > 1e-3)


def subject_exposure(premultiplied: np.ndarray, alpha: np.ndarray, target: float) -> float:
    """The scale that gives the subject's median pixel (alpha > 0.5) a linear luminance of ``target``,
    as a camera exposing for a face would."""
    alpha = alpha[..., 0] if alpha.ndim == premultiplied.ndim else alpha
    solid = alpha > 0.5
    if not solid.any():
        return 1.0
    luminance = (premultiplied[solid] / alpha[solid][:, None]) @ LUMINANCE
    return target / max(float(np.median(luminance)), 1e-6)
