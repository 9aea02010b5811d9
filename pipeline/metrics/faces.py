"""What face detectors say about generated heads: the pose they see, and who they see.

- Pose accuracy: dlib's 68 landmarks and the ``poses`` stage's fit (``pipeline.poses``) on
  an image generated at a known camera; the yaw and pitch errors of the fitted camera.
- Identity: dlib's face-recognition ResNet (128-d embeddings, ``face-recognition-models``);
  dlib reads two faces as one person below a distance of 0.6.

Both detect faces with dlib's HOG detector, which needs faces of about 80 pixels: pictures
smaller than ``DETECT_SIDE`` are upsampled (bilinear) to it first, and every score comes with
the share of pictures in which a face was found.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from tqdm import tqdm

from pipeline.io.resize import resize_picture
from pipeline.poses.detect import dlib_landmarks, INSTALL_HINT, model_file
from pipeline.poses.estimate import estimate
from pipeline.poses.fit import head_angles
from pipeline import LightstageError

DETECT_SIDE = 256
SAME_PERSON = 0.6  # dlib's threshold on the embedding distance


def upsampled(picture: np.ndarray) -> np.ndarray:
    """A uint8 picture (S, S, 3) at ``DETECT_SIDE`` pixels or more."""
    side = picture.shape[0]
    return resize_picture(picture, DETECT_SIDE, DETECT_SIDE) if side < DETECT_SIDE else picture


def fitted_angles(picture: np.ndarray, template: np.ndarray, max_error_px: float, min_points: int
                  ) -> np.ndarray | None:
    """(yaw, pitch) in degrees of the camera fitted to a face picture's landmarks; None if no face
    is found or the fit is rejected."""
    picture = upsampled(picture)
    found = estimate(dlib_landmarks(picture / 255.0), template, picture.shape[0], max_error_px, min_points)
    return head_angles(found.fit.label)[:2] if found.fit.kept else None


def pose_errors(pictures: np.ndarray, cameras: np.ndarray, template: np.ndarray, max_error_px: float = 3.0,
                min_points: int = 12) -> dict[str, float]:
    """Median absolute yaw and pitch errors (degrees) of the fitted cameras against ``cameras``
    (N, 25), over the pictures where a face was found and fitted, and that share."""
    errors = []
    for picture, camera in tqdm(list(zip(pictures, cameras)), desc="pose (dlib)", unit="image", leave=False):
        angles = fitted_angles(picture, template, max_error_px, min_points)
        if angles is not None:
            errors.append(np.abs(angles - head_angles(camera)[:2]))
    found = len(errors) / max(len(pictures), 1)
    if not errors:
        return {"pose_found": found, "yaw_error_deg": float("nan"), "pitch_error_deg": float("nan")}
    median = np.median(np.stack(errors), axis=0)
    return {"pose_found": found, "yaw_error_deg": float(median[0]), "pitch_error_deg": float(median[1])}


@cache
def _recognition():
    try:
        import dlib
    except ImportError as err:
        raise LightstageError(f"face embeddings need dlib (the dlib-bin package); {INSTALL_HINT}") from err
    predictor = dlib.shape_predictor(str(model_file("shape_predictor_68_face_landmarks.dat")))
    recognition = dlib.face_recognition_model_v1(str(model_file("dlib_face_recognition_resnet_model_v1.dat")))
    return dlib.get_frontal_face_detector(), predictor, recognition


def embedding(picture: np.ndarray) -> np.ndarray | None:
    """The 128-d embedding of the largest face in a uint8 picture (upsampled first), or None."""
    detector, predictor, recognition = _recognition()
    image = np.ascontiguousarray(upsampled(picture))
    faces = list(detector(image, 1))
    if not faces:
        return None
    largest = max(faces, key=lambda r: r.width() * r.height())
    return np.asarray(recognition.compute_face_descriptor(image, predictor(image, largest)), np.float64)


def identity_scores(left: np.ndarray, right: np.ndarray) -> dict[str, float]:
    """Two views of each head (N pictures each, the same head at the same index): the mean
    embedding distance between the views of one head, between views of different heads (the next
    index), the share of heads dlib reads as one person (distance < 0.6), and the share of
    pictures with a face."""
    a, b = ([embedding(p) for p in tqdm(pictures, desc=f"identity (dlib), {side}", unit="image", leave=False)]
            for pictures, side in ((left, "left"), (right, "right")))
    found = (sum(e is not None for e in a) + sum(e is not None for e in b)) / max(2 * len(a), 1)
    same = [np.linalg.norm(x - y) for x, y in zip(a, b) if x is not None and y is not None]
    other = [np.linalg.norm(x - y) for x, y in zip(a, b[1:] + b[:1]) if x is not None and y is not None]
    nan = float("nan")
    return {"identity_found": found, "identity_same_head": float(np.mean(same)) if same else nan,
            "identity_other_head": float(np.mean(other)) if other else nan,
            "identity_same_person": float(np.mean(np.array(same) < SAME_PERSON)) if same else nan}
