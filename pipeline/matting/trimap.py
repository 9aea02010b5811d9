"""Trimaps from alpha mattes, and the coarse segmentation a model sees at inference.

Conventions (SYSTEMS.md section 2): 0 background, 128 unknown, 255 foreground.
The unknown band is ``dilate(alpha > 0) - erode(alpha >= fg_threshold)``, both
with a disc of radius ``width`` pixels, so it reaches ``width`` pixels beyond
the last non-zero alpha and ``width`` pixels inside the solid foreground.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

BACKGROUND, UNKNOWN, FOREGROUND = 0, 128, 255


def disc(radius: int) -> np.ndarray:
    """A boolean disc (2r+1, 2r+1): pixels within ``radius`` of the centre."""
    y, x = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return x * x + y * y <= radius * radius


# Binary morphology with a disc, by OpenCV on uint8 masks: the same pixels as scipy.ndimage's binary
# morphology (checked in tests/matting/test_trimap.py) at about 8x the speed (this runs for every
# training crop).

def dilate(mask: np.ndarray, radius: int, outside: int = 0) -> np.ndarray:
    if radius <= 0:
        return mask.copy()
    kernel = disc(radius).astype(np.uint8)
    return cv2.dilate(mask.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=outside).astype(bool)


def erode(mask: np.ndarray, radius: int, outside: int = 1) -> np.ndarray:
    """By default outside the frame counts as foreground: a subject cut by the frame has no matte edge there."""
    if radius <= 0:
        return mask.copy()
    kernel = disc(radius).astype(np.uint8)
    return cv2.erode(mask.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=outside).astype(bool)


def trimap_from_alpha(alpha: np.ndarray, width: int, fg_threshold: float = 0.95) -> np.ndarray:
    """uint8 trimap (H, W) with an unknown band ``width`` pixels wide on each side of the edge."""
    foreground = erode(alpha >= fg_threshold, width)
    possible = dilate(alpha > 0, width)
    trimap = np.full(alpha.shape, BACKGROUND, dtype=np.uint8)
    trimap[possible] = UNKNOWN
    trimap[foreground] = FOREGROUND
    return trimap


def band_width(rng: np.random.Generator, size: int, fraction_range: tuple[float, float]) -> int:
    """A band width in pixels drawn uniformly from a range given as fractions of the image size."""
    low, high = (max(1, round(f * size)) for f in fraction_range)
    return int(rng.integers(low, high + 1))


def coarse_segmentation(alpha: np.ndarray, rng: np.random.Generator, thin_radius: int, jitter: int) -> np.ndarray:
    """A simulated off-the-shelf person segmentation (bool (H, W)): alpha binarised at 0.5,
    opened so that parts thinner than ~2 ``thin_radius`` vanish, then its outline pushed in or
    out by up to ``jitter`` pixels along a smooth random field."""
    mask = dilate(erode(alpha >= 0.5, thin_radius, outside=0), thin_radius)  # an opening
    signed = np.where(mask, distance_to_zero(mask), -distance_to_zero(~mask))
    # scipy.ndimage.gaussian_filter's sampled Gaussian (to 4 sigma, reflected borders), by OpenCV
    field = cv2.GaussianBlur(rng.normal(size=alpha.shape), (0, 0), alpha.shape[0] / 8, borderType=cv2.BORDER_REFLECT)
    field *= jitter / max(np.abs(field).max(), 1e-9)
    return signed + field > 0.5


def distance_to_zero(mask: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance (H, W) from each True pixel to the nearest False one (0 on False),
    as scipy.ndimage.distance_transform_edt, by OpenCV in float32 (with the OpenCV blur the simulated
    segmentation takes 2.4 ms at 128 px against scipy's 3.5: ``benchmarks/matting.py``)."""
    return cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def coarse_trimap(segmentation: np.ndarray, width: int) -> np.ndarray:
    """The trimap a model gets at inference: a band of ``width`` pixels around the segmentation edge."""
    trimap = np.full(segmentation.shape, BACKGROUND, dtype=np.uint8)
    trimap[dilate(segmentation, width)] = UNKNOWN
    trimap[erode(segmentation, width)] = FOREGROUND
    return trimap


def trimap_classes(trimap: np.ndarray) -> np.ndarray:
    """Class indices (H, W): 0 background, 1 unknown, 2 foreground."""
    return np.select([trimap == BACKGROUND, trimap == UNKNOWN], [0, 1], 2).astype(np.int64)


def true_trimap_classes(alpha: np.ndarray, low: float = 0.01, high: float = 0.99) -> np.ndarray:
    """What the trimap-refinement decoder should say (H, W): where alpha is really 0, fractional or 1."""
    return np.select([alpha <= low, alpha < high], [0, 1], 2).astype(np.int64)


def border_segmentation(image: np.ndarray, clusters: int = 8, frame: int = 2) -> np.ndarray:
    """A coarse person segmentation (bool (H, W)) for a photo with no segmentation network at
    hand: pixels far in colour from every dominant colour of the image's border (k-means over
    a ``frame``-pixel frame), largest connected region, holes filled. It assumes the subject
    does not fill the border and stands out from the background; a given trimap beats it."""
    from scipy.cluster.vq import kmeans2

    image = np.asarray(image, dtype=np.float64)
    border = np.concatenate([image[:frame].reshape(-1, 3), image[-frame:].reshape(-1, 3),
                             image[:, :frame].reshape(-1, 3), image[:, -frame:].reshape(-1, 3)])
    centres, _ = kmeans2(border, min(clusters, len(border)), seed=0, minit="++")
    distance = np.min(np.linalg.norm(image[..., None, :] - centres, axis=-1), axis=-1)
    border_spread = np.percentile(np.min(np.linalg.norm(border[:, None] - centres, axis=-1), axis=-1), 99)
    labels, count = ndimage.label(distance > max(3 * border_spread, 0.08))
    if count == 0:
        return np.zeros(image.shape[:2], dtype=bool)
    largest = 1 + int(np.argmax(ndimage.sum_labels(np.ones_like(labels), labels, index=range(1, count + 1))))
    return ndimage.binary_fill_holes(labels == largest)
