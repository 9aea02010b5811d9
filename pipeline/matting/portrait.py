"""A coarse person segmentation for real portraits, from what ships offline.

dlib's frontal face detector (HOG) finds the faces; the largest is taken, and
dlib's 68-point shape predictor (from the ``face-recognition-models`` package)
places its jaw, chin and brows. From them a head-and-shoulders prior is drawn
(the head with room for hair, the neck, shoulders widening to the bottom edge),
and OpenCV's GrabCut refines it by colour: the face and the middle of the chest
are certainly the person, the prior probably, a margin around it probably not,
everything else background. Where no face is found, the border-colour
segmentation (``pipeline.matting.trimap.border_segmentation``) is the fallback.

The detector lives in ``pipeline.poses.detect``, which the poses stage shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from pipeline.io.resize import resize_picture, scaled_shape
from pipeline.matting.trimap import border_segmentation
from pipeline.poses.detect import dlib_landmarks

WORK_SIZE = 400  # GrabCut runs with the photo's longer side at most this many pixels


@dataclass(frozen=True)
class Segmentation:
    """A coarse person mask and how it was found."""

    mask: np.ndarray  # (H, W) bool
    method: str  # "face prior + GrabCut" or "border colours"
    faces: int  # faces the detector found (0 where the border colours were used)
    face_box: tuple[int, int, int, int] | None  # (left, top, right, bottom) of the face taken


def head_and_shoulders(shape: tuple[int, int], landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(prior, core) bool masks (H, W): where a person with these face landmarks probably is
    (head with hair, neck, shoulders down to the bottom edge), and where certainly (the face
    inside its jaw and brows, the middle of the chest)."""
    height, width = shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    jaw, brows, chin = landmarks[0:17], landmarks[17:27], landmarks[8]
    face_w = jaw[:, 0].max() - jaw[:, 0].min()
    face_h = chin[1] - brows[:, 1].min()
    centre = landmarks[27:31, 0].mean()  # the nose bridge: the head's axis, also when turned
    top, bottom = brows[:, 1].min() - 0.8 * face_h, chin[1] + 0.05 * face_h
    head = ((cols - centre) / (0.72 * face_w)) ** 2 + ((rows - (top + bottom) / 2) / ((bottom - top) / 2)) ** 2 <= 1
    neck = (np.abs(cols - centre) <= 0.42 * face_w) & (rows >= chin[1] - 0.3 * face_h) & (rows <= chin[1] + 0.7 * face_h)
    shoulder_top = chin[1] + 0.45 * face_h
    half = np.clip(0.5 * face_w + 2.2 * (rows - shoulder_top), 0.0, 1.9 * face_w)  # widening fast, then straight down
    body = (rows >= shoulder_top) & (np.abs(cols - centre) <= half)
    face = _inside(np.concatenate([jaw, brows[::-1] - [0.0, 0.1 * face_h]]), rows, cols)
    chest = (np.abs(cols - centre) <= 0.6 * face_w) & (rows >= chin[1] + 1.0 * face_h)
    throat = (np.abs(cols - centre) <= 0.25 * face_w) & (rows >= chin[1] + 0.1 * face_h)  # the neck under the chin, down to the chest
    return head | neck | body, ndimage.binary_erosion(face, iterations=2) | chest | throat


def portrait_segmentation(photo: np.ndarray) -> Segmentation:
    """The person in an sRGB photo (H, W, 3) in [0, 1]: GrabCut from the largest face's
    head-and-shoulders prior, or the border-colour segmentation where no face is found."""
    detection = dlib_landmarks(photo)
    landmarks, faces = detection.xy, detection.faces
    if landmarks is None:
        return Segmentation(border_segmentation(photo), "border colours", 0, None)
    mask = grabcut(photo, *head_and_shoulders(photo.shape[:2], landmarks))
    left, top = np.floor(landmarks.min(axis=0)).astype(int)
    right, bottom = np.ceil(landmarks.max(axis=0)).astype(int)
    return Segmentation(mask, "face prior + GrabCut", faces, (int(left), int(top), int(right), int(bottom)))


def grabcut(photo: np.ndarray, prior: np.ndarray, core: np.ndarray, iterations: int = 5) -> np.ndarray:
    """GrabCut (OpenCV) at ``WORK_SIZE``, seeded with ``core`` as certain foreground, ``prior``
    as probable foreground, a margin around it as probable background and the rest as certain
    background; the largest region, holes filled, at the photo's size."""
    import cv2

    height, width = prior.shape
    scale = min(1.0, WORK_SIZE / max(height, width))
    image = _bytes(photo, scale)[..., ::-1].copy()  # BGR
    small_prior = resize_picture(prior.astype(np.uint8), *image.shape[:2], nearest=True).astype(bool)
    small_core = resize_picture(core.astype(np.uint8), *image.shape[:2], nearest=True).astype(bool) & small_prior
    margin = max(2, round(0.08 * max(image.shape[:2])))
    seeds = np.full(image.shape[:2], cv2.GC_BGD, dtype=np.uint8)
    seeds[ndimage.binary_dilation(small_prior, iterations=margin)] = cv2.GC_PR_BGD
    seeds[small_prior] = cv2.GC_PR_FGD
    seeds[small_core] = cv2.GC_FGD
    background, foreground = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(0)  # GrabCut's colour models start from k-means: the same cut every time
    cv2.grabCut(image, seeds, None, background, foreground, iterations, cv2.GC_INIT_WITH_MASK)
    small = np.isin(seeds, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
    mask = resize_picture(small, height, width) > 0.5
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    largest = 1 + int(np.argmax(ndimage.sum_labels(np.ones_like(labels), labels, index=range(1, count + 1))))
    return ndimage.binary_fill_holes(labels == largest)


def _inside(polygon: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    import cv2

    mask = np.zeros(rows.shape, dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask.astype(bool)


def _bytes(photo: np.ndarray, scale: float) -> np.ndarray:
    """An sRGB photo in [0, 1] as 8-bit RGB, scaled by ``scale``."""
    image = np.clip(photo * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return resize_picture(image, *scaled_shape(image.shape, scale))
