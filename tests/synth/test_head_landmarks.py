"""The 68 iBUG landmarks on the head mesh: symmetric, in the iBUG order, on the visible surface."""

import numpy as np
import pytest

from pipeline.synth.head import HeadModel
from pipeline.synth.head_landmarks import MIDLINE, MIRROR_PAIRS, landmarks


@pytest.fixture(scope="module")
def model():
    return HeadModel()


def test_pairs_mirror_about_the_midline_on_the_neutral_head(model):
    points = landmarks(model.mesh({name: 0.5 for name in model.phenotype_labels}, {}))
    right, left = (points[[pair[k] for pair in MIRROR_PAIRS]] for k in (0, 1))
    assert (right[:, 0] < 0).all() and (left[:, 0] > 0).all()  # the subject's right is at -x, facing +z
    assert np.abs(right[:, 0] + left[:, 0]).max() < 1e-3  # metres
    assert np.abs(right[:, 1:] - left[:, 1:]).max() < 1e-3
    assert np.abs(points[list(MIDLINE), 0]).max() < 1e-3


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_landmarks_keep_the_ibug_order_and_lie_on_the_visible_face(model, seed):
    head = model.sample(np.random.default_rng(seed))
    p = landmarks(head)
    x, y = p[:, 0], p[:, 1]
    assert (np.diff(x[0:9]) > 0).all() and (np.diff(x[8:17]) > 0).all()  # jawline from the right ear to the left
    assert (np.diff(y[0:9]) < 0).all() and (np.diff(y[8:17]) > 0).all()  # down to the chin, up again
    assert x[36] < x[39] < x[42] < x[45]  # eye corners: right outer, right inner, left inner, left outer
    assert y[17:27].min() > y[36:48].max() - 0.005  # brows above the eyes
    assert y[36:48].min() > y[30] > y[51] > y[57] > y[8]  # eyes, nose tip, upper lip, lower lip, chin
    assert p[30, 2] == p[:, 2].max()  # the nose tip is the nearest point to a frontal camera
    # brows, eyes, nose and outer lips are on the surface a frontal camera sees: at most a few
    # millimetres behind what is in front of them (a deep-set eye's corner under its lid); the inner
    # lip points (60-67) can hide behind the lips (measured: up to 2 cm), as on a real closed mouth
    hits = head.caster().closest(p + np.array([0.0, 0.0, 1.0]), np.tile([0.0, 0.0, -1.0], (len(p), 1)))
    assert np.abs(hits.t[17:60] - 1.0).max() < 4e-3
    assert np.abs(hits.t[60:] - 1.0).max() < 0.025
