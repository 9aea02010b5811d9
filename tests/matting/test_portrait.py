"""The portrait segmentation on real photographs shipped by packages, against masks traced by hand."""

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.matting.portrait import portrait_segmentation
from pipeline.poses.detect import dlib_landmarks, model_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def traced_mask(name: str, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    polygon = np.array(json.loads((FIXTURES / name).read_text())["polygon_xy"], dtype=np.int32)
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(mask, [polygon], 1)
    return mask.astype(bool)


@pytest.fixture(scope="module")
def astronaut():
    data = pytest.importorskip("skimage.data", reason="scikit-image (the test extra) ships the astronaut portrait")
    return data.astronaut().astype(np.float32) / 255.0


def test_the_models_are_found_without_importing_their_package():
    import sys

    assert model_file("shape_predictor_68_face_landmarks.dat").stat().st_size > 90_000_000
    assert "face_recognition_models" not in sys.modules  # its __init__ needs pkg_resources


def test_a_studio_portrait_touching_the_bottom_edge_is_segmented(astronaut):
    """scikit-image's astronaut (512 x 512: a person in a suit before a flag and a shuttle model,
    cut by the bottom edge, holding a helmet), against the outline traced by hand in
    tests/fixtures/astronaut_person.json: IoU at least 0.9 (measured 0.928). The border-colour
    segmentation, the fallback, finds nothing here (IoU 0)."""
    found = portrait_segmentation(astronaut)
    truth = traced_mask("astronaut_person.json", astronaut.shape[:2])
    iou = (found.mask & truth).sum() / (found.mask | truth).sum()
    assert found.method == "face prior + GrabCut" and iou >= 0.9, iou
    left, top, right, bottom = found.face_box
    assert 170 < left < right < 290 and 80 < top < bottom < 190  # her face, not the badge
    again = portrait_segmentation(astronaut)
    assert np.array_equal(again.mask, found.mask)  # GrabCut seeded: the same cut every time


def test_no_face_falls_back_to_border_colours():
    rng = np.random.default_rng(0)
    photo = (0.8 + 0.02 * rng.standard_normal((120, 100, 3))).astype(np.float32)  # a plain, slightly noisy wall
    photo[40:110, 30:70] = rng.uniform(0.0, 0.2, (70, 40, 3))  # a dark figure on a light wall, no face
    detection = dlib_landmarks(photo)
    assert detection.xy is None and detection.faces == 0
    found = portrait_segmentation(photo)
    assert found.method == "border colours" and found.faces == 0 and found.face_box is None
    assert found.mask[60:100, 35:65].all() and not found.mask[:30].any()
