"""Angular error of surface normals: the summary statistics of normal-estimation papers."""

from __future__ import annotations

import numpy as np

THRESHOLDS_DEG = (11.25, 22.5, 30.0)


def angles_deg(predicted: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Angles in degrees between normals (H, W, 3) at the pixels under ``mask`` (H, W); renormalised first."""
    p = predicted[mask] / np.maximum(np.linalg.norm(predicted[mask], axis=-1, keepdims=True), 1e-12)
    t = target[mask] / np.maximum(np.linalg.norm(target[mask], axis=-1, keepdims=True), 1e-12)
    return np.degrees(np.arccos(np.clip(np.sum(p * t, axis=-1), -1.0, 1.0)))


def angular_summary(angles: np.ndarray) -> dict[str, float]:
    """Mean, median and the share of pixels under 11.25, 22.5 and 30 degrees."""
    summary = {"mean_deg": float(angles.mean()), "median_deg": float(np.median(angles))}
    summary.update({f"under_{t:g}": float((angles < t).mean()) for t in THRESHOLDS_DEG})
    return summary
