"""Head poses from 68 landmarks (pipeline/poses/fit.py): PnP round trips, robustness, the mirror rule."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.camera.eg3d import camera_label, orbit_camera, split_label
from pipeline.poses.fit import (MIRROR, MIRROR_ORDER, fit_pose, head_angles, mirror_label, mirror_landmarks,
                                project_label)
from pipeline.synth.subject import sample_subject

SIZE = 128
ALL = np.ones(68, bool)


@pytest.fixture(scope="module")
def template() -> np.ndarray:
    """A synthetic subject's 68 landmarks, made exactly symmetric (so a mirrored view is a view of it)."""
    points = sample_subject(np.random.default_rng(0)).landmarks.astype(np.float64)
    return 0.5 * (points + points[MIRROR_ORDER] @ MIRROR[:3, :3])


def rolled(label: np.ndarray, degrees: float) -> np.ndarray:
    cam2world, intrinsics = split_label(label)
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    turned = cam2world.copy()
    turned[:3, 0], turned[:3, 1] = c * cam2world[:3, 0] + s * cam2world[:3, 1], -s * cam2world[:3, 0] + c * cam2world[:3, 1]
    return camera_label(turned, intrinsics)


@pytest.mark.parametrize("yaw, pitch, roll", [(0, 0, 0), (-60, 10, 0), (30, -15, 0), (45, 20, 8), (-20, 0, -12)])
def test_a_known_camera_is_recovered_to_a_tenth_of_a_degree(template, yaw, pitch, roll):
    label = rolled(camera_label(orbit_camera(np.radians(yaw), np.radians(pitch))), roll)
    assert head_angles(label) == pytest.approx([yaw, pitch, roll], abs=1e-9)
    fit = fit_pose(template, project_label(label, template, SIZE), ALL, SIZE)
    assert fit.kept and fit.error_px < 1e-3
    assert np.abs(head_angles(fit.label) - [yaw, pitch, roll]).max() < 0.1
    assert np.allclose(split_label(fit.label)[0], split_label(label)[0], atol=1e-4)
    assert np.abs(project_label(fit.label, template, SIZE) - project_label(label, template, SIZE)).max() < 1.0


def test_outlying_landmarks_are_left_out(template):
    label = camera_label(orbit_camera(np.radians(25), np.radians(5)))
    xy = project_label(label, template, SIZE)
    xy[[3, 10, 40, 50, 60]] += 25.0  # five points a detector got badly wrong
    fit = fit_pose(template, xy, ALL, SIZE)
    assert fit.kept and fit.points <= 63
    assert np.abs(head_angles(fit.label) - [25, 5, 0]).max() < 0.1


def test_detector_noise_moves_the_pose_by_little(template):
    rng = np.random.default_rng(1)
    errors = []
    for yaw in range(-40, 41, 10):
        label = camera_label(orbit_camera(np.radians(yaw), 0.0))
        fit = fit_pose(template, project_label(label, template, SIZE) + rng.normal(0, 1.0, (68, 2)), ALL, SIZE)
        # 2D RMS of noise of sigma 1 px per axis, less the 6 of 136 degrees of freedom the pose absorbs: about 1.38 px
        assert fit.kept and 1.0 < fit.error_px < 1.8
        errors.append(np.abs(head_angles(fit.label) - [yaw, 0, 0]).max())
    assert np.median(errors) < 3.0


def test_a_fit_is_rejected_with_its_reason(template):
    label = camera_label(orbit_camera(0.0, 0.0))
    xy = project_label(label, template, SIZE)
    few = np.zeros(68, bool)
    few[:8] = True
    assert "8 visible landmarks" in fit_pose(template, xy, few, SIZE).reason
    scrambled = np.random.default_rng(2).uniform(0, SIZE, (68, 2))
    fit = fit_pose(template, scrambled, ALL, SIZE)
    assert not fit.kept and fit.reason
    with pytest.raises(ValueError, match="68"):
        fit_pose(template[:60], xy[:60], ALL[:60], SIZE)


@pytest.mark.parametrize("yaw, pitch, roll", [(30, 10, 5), (-50, -5, 0)])
def test_the_mirrored_image_gives_the_mirrored_pose(template, yaw, pitch, roll):
    label = rolled(camera_label(orbit_camera(np.radians(yaw), np.radians(pitch))), roll)
    xy = project_label(label, template, SIZE)
    mirrored_xy, mirrored_visible = mirror_landmarks(xy, ALL, SIZE)
    fit = fit_pose(template, mirrored_xy, mirrored_visible, SIZE)
    assert fit.kept
    assert np.abs(head_angles(fit.label) - [-yaw, pitch, -roll]).max() < 0.1
    assert np.allclose(fit.label, mirror_label(label), atol=1e-4)  # the rule EG3D's mirrored labels follow
    assert np.allclose(mirror_label(mirror_label(label)), label)
    assert np.allclose(split_label(mirror_label(label))[1], split_label(label)[1])
