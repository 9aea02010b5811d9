"""dlib's pose and identity on real photographs that ship with the test packages."""

from pathlib import Path

import matplotlib
import numpy as np
import pytest
from skimage import data

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.io.arrays import load_png
from pipeline.metrics.faces import fitted_angles, identity_scores, pose_errors, SAME_PERSON
from pipeline.poses.fit import mirror_label
from pipeline.poses.template import template_from_lightstage

HOPPER = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def square(picture: np.ndarray, top: int, left: int, side: int, size: int = 128) -> np.ndarray:
    import cv2

    return cv2.resize(np.ascontiguousarray(picture[top:top + side, left:left + side]), (size, size),
                      interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def portraits():
    astronaut = square(data.astronaut(), 0, 120, 300)
    hopper = square(load_png(HOPPER), 40, 80, 380)
    return astronaut, hopper


def test_the_fitted_pose_of_a_mirrored_face_is_mirrored(small_dataset, portraits):
    template, _ = template_from_lightstage(small_dataset / "lightstage")
    astronaut, _ = portraits
    angles, mirrored = fitted_angles(astronaut, template, 6.0, 12), fitted_angles(astronaut[:, ::-1], template, 6.0, 12)
    assert angles is not None and mirrored is not None
    assert abs(angles[0] + mirrored[0]) < 3.0 and abs(angles[1] - mirrored[1]) < 3.0
    label = camera_label(orbit_camera(np.radians(angles[0]), np.radians(angles[1])))
    scores = pose_errors(np.stack([astronaut, astronaut[:, ::-1], np.zeros_like(astronaut)]),
                         np.stack([label, mirror_label(label), label]), template, 6.0, 12)
    assert scores["pose_found"] == pytest.approx(2 / 3)  # no face in the black picture
    assert scores["yaw_error_deg"] < 3.0 and scores["pitch_error_deg"] < 3.0


def test_one_person_in_two_views_and_two_people(portraits):
    astronaut, hopper = portraits
    scores = identity_scores([astronaut, hopper], [astronaut[:, ::-1], hopper[:, ::-1]])
    assert scores["identity_found"] == 1.0 and scores["identity_same_person"] == 1.0
    assert scores["identity_same_head"] < SAME_PERSON < scores["identity_other_head"]
    empty = identity_scores([np.zeros((64, 64, 3), np.uint8)], [np.zeros((64, 64, 3), np.uint8)])
    assert empty["identity_found"] == 0.0 and np.isnan(empty["identity_same_head"])
