"""Face landmark detectors: the 68 iBUG points (dlib's convention) of the largest face in a photo.

Points are in continuous pixel coordinates (pixel ``i`` spans [i, i + 1], its centre at
i + 0.5), the convention of the face set's landmarks and of ``pipeline.poses.fit``.

- ``synthetic``: the face set's own projected landmarks plus Gaussian noise of a given
  sigma in pixels per axis, as a detector's scatter; the points the renderer found
  hidden stay flagged so (the fit leaves them out).
- ``dlib``: dlib's HOG frontal face detector (``dlib-bin``), the largest face, and its
  68-point shape predictor from the ``face-recognition-models`` package. That package
  imports ``pkg_resources`` when imported, which current setuptools no longer has, so its
  model files are found through the package's directory instead of by importing it. dlib
  places every point, hidden or not: all 68 come flagged visible.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from pipeline import LightstageError
from pipeline.io.resize import resize_picture, scaled_shape

DETECTORS = ("synthetic", "dlib")
COUNT = 68
INSTALL_HINT = "`make install` installs them (or: pip install dlib-bin face-recognition-models)"
DETECT_SIZE = 800  # detection runs with the photo's longer side at most this many pixels
UPSAMPLE_BELOW = 600  # photos smaller than this are searched one pyramid level up (HOG needs faces of about 80 px)


@dataclass(frozen=True)
class Detection:
    """The landmarks of the face taken, or none (``xy`` None)."""

    xy: np.ndarray | None  # (68, 2) x, y in pixels
    visible: np.ndarray | None  # (68,) bool
    faces: int  # faces the detector found (the largest is taken)


def synthetic_landmarks(xy: np.ndarray, visible: np.ndarray, sigma: float, rng: np.random.Generator) -> Detection:
    """The true landmarks (68, 2) with N(0, sigma^2) pixels added to each coordinate."""
    xy = np.asarray(xy, np.float64).reshape(COUNT, 2)
    return Detection(xy + rng.normal(0.0, sigma, xy.shape) if sigma > 0 else xy.copy(),
                     np.asarray(visible, bool).reshape(COUNT), 1)


def model_file(name: str) -> Path:
    """A model file of the ``face-recognition-models`` package, found through its directory."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise LightstageError(f"the face landmark models (face-recognition-models) are not installed; {INSTALL_HINT}")
    path = Path(spec.origin).parent / "models" / name
    if not path.is_file():
        raise LightstageError(f"{path}: model file missing from face-recognition-models; reinstall it")
    return path


@cache
def _dlib_models():
    try:
        import dlib
    except ImportError as err:
        raise LightstageError(f"face landmarks need dlib (the dlib-bin package); {INSTALL_HINT}") from err
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(model_file("shape_predictor_68_face_landmarks.dat")))


def dlib_landmarks(photo: np.ndarray) -> Detection:
    """dlib's 68 landmarks of the largest face in an sRGB photo (H, W, 3) in [0, 1]."""
    detector, predictor = _dlib_models()
    scale = min(1.0, DETECT_SIZE / max(photo.shape[:2]))
    image = np.clip(photo * 255.0 + 0.5, 0, 255).astype(np.uint8)
    image = resize_picture(image, *scaled_shape(image.shape, scale))
    found = list(detector(image, 1 if max(image.shape[:2]) < UPSAMPLE_BELOW else 0))
    if not found:
        return Detection(None, None, 0)
    largest = max(found, key=lambda r: r.width() * r.height())
    shape = predictor(image, largest)
    parts = np.array([[shape.part(i).x, shape.part(i).y] for i in range(COUNT)], dtype=np.float64)
    return Detection((parts + 0.5) / scale, np.ones(COUNT, bool), len(found))  # dlib's pixel indices -> continuous
