"""Temporal consistency against ground truth (SYSTEMS.md section 5).

For a predicted sequence P_t and the true one G_t (T, H, W[, C]):
  TD    = mean |(P_t - P_{t-1}) - (G_t - G_{t-1})|        (t = 1 .. T-1)
  ratio = mean |P_{t+1} - 2 P_t + P_{t-1}| / mean |G_{t+1} - 2 G_t + G_{t-1}|
TD is zero when the prediction changes exactly as the truth does, whatever its
per-frame error; the ratio is 1 when the prediction is as smooth in time as the
truth and above 1 when it flickers (jumps the truth does not make).
"""

from __future__ import annotations

import numpy as np


def _over(frames: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    frames = np.asarray(frames, np.float64)
    return frames if mask is None else frames[:, np.asarray(mask, bool)]


def temporal_difference(predicted: np.ndarray, truth: np.ndarray, mask: np.ndarray | None = None,
                        cyclic: bool = False) -> np.ndarray:
    """Per-step TD (T-1,), or (T,) with ``cyclic`` (the last frame followed by the first)."""
    p, g = _over(predicted, mask), _over(truth, mask)
    if cyclic:
        p, g = np.concatenate([p, p[:1]]), np.concatenate([g, g[:1]])
    step = np.abs(np.diff(p, axis=0) - np.diff(g, axis=0))
    return step.reshape(len(step), -1).mean(axis=1)


def second_difference(frames: np.ndarray, mask: np.ndarray | None = None, cyclic: bool = False) -> float:
    """mean |F_{t+1} - 2 F_t + F_{t-1}|."""
    f = _over(frames, mask)
    if cyclic:
        f = np.concatenate([f[-1:], f, f[:1]])
    return float(np.abs(f[2:] - 2 * f[1:-1] + f[:-2]).mean())


def temporal_metrics(predicted: np.ndarray, truth: np.ndarray, mask: np.ndarray | None = None,
                     cyclic: bool = False) -> dict[str, float]:
    """TD (mean over steps) and the second-difference ratio of a prediction against the truth."""
    truth_second = second_difference(truth, mask, cyclic)
    return {"td": float(temporal_difference(predicted, truth, mask, cyclic).mean()),
            "second_difference_ratio": second_difference(predicted, mask, cyclic) / max(truth_second, 1e-12)}
