"""Aligned face crops, the FFHQ way, and the transforms that carry pixels and points into them.

FFHQ's alignment (Karras et al. 2019, the dataset's creation script) takes an oriented
square from five landmark groups: with e the midpoint of the eye centres (means of points
36-41 and 42-47), d the vector from the subject's right eye centre to the left one, and m
the vector from e to the mouth's midpoint (points 48 and 54), the square is centred at
c = e + 0.1 m, its half-side axis is x = d - perp(m) (perp(m) = (-m_y, m_x)) scaled to
max(2 |d|, 1.8 |m|), and y = perp(x). The crop maps that square onto R x R pixels.

Coordinates are continuous pixels (pixel ``i`` spans [i, i + 1]). A crop is a similarity
``(2, 3)`` matrix A taking a source point to its crop point, p' = A [p; 1].
"""

from __future__ import annotations

import cv2
import numpy as np

EYES = (slice(36, 42), slice(42, 48))
MOUTH_CORNERS = (48, 54)


def ffhq_square(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centre, x, y): the aligned square's centre and half-side axes (2,) in the source."""
    xy = np.asarray(xy, np.float64)
    right_eye, left_eye = xy[EYES[0]].mean(axis=0), xy[EYES[1]].mean(axis=0)
    eyes = (right_eye + left_eye) / 2
    across = left_eye - right_eye
    down = (xy[MOUTH_CORNERS[0]] + xy[MOUTH_CORNERS[1]]) / 2 - eyes
    x = across - np.array([-down[1], down[0]])
    x *= max(2.0 * np.hypot(*across), 1.8 * np.hypot(*down)) / np.hypot(*x)
    return eyes + 0.1 * down, x, np.array([-x[1], x[0]])


def crop_transform(xy: np.ndarray, size: int) -> np.ndarray:
    """The similarity A (2, 3) that takes the source's FFHQ square onto [0, size]^2."""
    centre, x, y = ffhq_square(xy)
    # crop -> source: p = centre + x (2u / size - 1) + y (2v / size - 1)
    to_source = np.column_stack([2 * x / size, 2 * y / size, centre - x - y])
    return invert(to_source)


def invert(affine: np.ndarray) -> np.ndarray:
    linear = np.linalg.inv(affine[:, :2])
    return np.column_stack([linear, -linear @ affine[:, 2]])


def apply(affine: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Points (N, 2) through an affine (2, 3)."""
    return np.asarray(xy, np.float64) @ affine[:, :2].T + affine[:, 2]


def scale_of(affine: np.ndarray) -> float:
    """A similarity's scale (crop pixels per source pixel)."""
    return float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))


def rotation_of(affine: np.ndarray) -> float:
    """A similarity's rotation in degrees (positive turns the image's x axis towards its y axis)."""
    return float(np.degrees(np.arctan2(affine[1, 0], affine[0, 0])))


def warp(image: np.ndarray, affine: np.ndarray, size: int, labels: bool = False) -> np.ndarray:
    """The crop (size, size, ...) of ``image`` under ``affine``. Pictures shrunk by 2x or more are
    first area-averaged by the whole factor (so the bilinear warp does not alias), and the border
    is mirrored, as FFHQ pads; label maps take the nearest pixel and 0 (background) outside."""
    affine = np.asarray(affine, np.float64)
    if not labels:
        factor = int(1.0 / scale_of(affine))
        if factor >= 2:
            height, width = image.shape[:2]
            small = cv2.resize(image, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA)
            stretch = np.array([[width / small.shape[1], 0.0], [0.0, height / small.shape[0]]])
            affine = np.column_stack([affine[:, :2] @ stretch, affine[:, 2]])
            image = small
    # continuous coordinates -> OpenCV's (pixel centres at integers): q' + 0.5 = L (q + 0.5) + t
    matrix = np.column_stack([affine[:, :2], affine[:, 2] + affine[:, :2] @ [0.5, 0.5] - 0.5])
    if labels:
        return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
