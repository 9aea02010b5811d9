"""Pictures at another size, for ``lightstage relight`` and its segmentation: one rule for all.

Shrinking averages areas, enlarging interpolates bilinearly, and labels (trimaps,
masks) take the nearest pixel so that they keep their values.
"""

from __future__ import annotations

import numpy as np


def scaled_shape(shape: tuple[int, ...], scale: float) -> tuple[int, int]:
    """(height, width) of a picture of ``shape`` scaled by ``scale``, at least one pixel each."""
    return max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale))


def resize_picture(image: np.ndarray, height: int, width: int, nearest: bool = False) -> np.ndarray:
    """``image`` (H, W, ...) at (height, width); the same array when it already has that size."""
    import cv2

    if image.shape[:2] == (height, width):
        return image
    shrinking = height * width < image.shape[0] * image.shape[1]
    method = cv2.INTER_NEAREST if nearest else cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=method)
