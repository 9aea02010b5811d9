"""The temporal metric: zero for a prediction that changes as the truth does, high for flicker."""

import numpy as np
import pytest

from pipeline.metrics.normals import angles_deg, angular_summary
from pipeline.metrics.temporal import temporal_difference, temporal_metrics


def truth_sequence(frames: int = 12) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, frames, endpoint=False)
    return 0.5 + 0.3 * np.sin(t)[:, None, None] * np.ones((frames, 4, 4))


def test_an_offset_prediction_has_no_temporal_error():
    truth = truth_sequence()
    metrics = temporal_metrics(truth + 0.1, truth, cyclic=True)  # a constant per-frame error is not flicker
    assert metrics["td"] == pytest.approx(0.0, abs=1e-12)
    assert metrics["second_difference_ratio"] == pytest.approx(1.0)


def test_a_jump_is_caught():
    truth = truth_sequence()
    jumpy = truth.copy()
    jumpy[6] += 0.2  # one frame suddenly brighter
    steps = temporal_difference(jumpy, truth)
    assert steps[5] == pytest.approx(0.2) and steps[6] == pytest.approx(0.2)
    assert np.allclose(np.delete(steps, [5, 6]), 0)
    assert temporal_metrics(jumpy, truth)["second_difference_ratio"] > 2


def test_a_frozen_prediction_scores_the_truth_motion():
    truth = truth_sequence()
    frozen = np.repeat(truth[:1], len(truth), axis=0)
    metrics = temporal_metrics(frozen, truth, cyclic=True)
    assert metrics["td"] == pytest.approx(np.abs(np.diff(np.concatenate([truth, truth[:1]]), axis=0)).mean())
    assert metrics["second_difference_ratio"] == 0


def test_normal_angles():
    up = np.zeros((1, 3, 3))
    up[..., 2] = 1
    tilted = np.zeros((1, 3, 3))
    tilted[0] = [[0, 0, 1], [np.sin(np.radians(20)), 0, np.cos(np.radians(20))], [0, 1, 0]]
    angles = angles_deg(tilted, up, np.ones((1, 3), bool))
    np.testing.assert_allclose(angles, [0, 20, 90], atol=1e-6)
    summary = angular_summary(angles)
    assert summary["median_deg"] == pytest.approx(20) and summary["under_22.5"] == pytest.approx(2 / 3)
