"""Colour guidance for the matting network (an addition to the published module, behind
``train_matting.guidance``): the foreground and background colours spread from the
trimap's known regions into the unknown band, and the alpha that explains each pixel's
colour as their mix. It gives the network, at every pixel, the unmixing that
closed-form and sampling-based matting get from the colour-line model."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.matting.trimap import BACKGROUND, FOREGROUND

SCALES = (16.0, 8.0, 4.0, 2.0, 1.0)  # coarse to fine; finer ones win where they see enough known pixels
CHANNELS = 8  # F (3), B (3), unmixing alpha (1), guided-filter alpha (1)
GUIDED_RADIUS = 4
GUIDED_EPSILON = 1e-4


def spread(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Colours (H, W, 3) of ``known`` pixels spread into the rest by normalised Gaussian convolution."""
    known = known.astype(np.float32)
    estimate = np.broadcast_to(image[known > 0].mean(axis=0) if known.any() else 0.5, image.shape).astype(np.float32)
    stacked = np.concatenate([image.astype(np.float32) * known[..., None], known[..., None]], axis=-1)
    for sigma in SCALES:
        blurred = cv2.GaussianBlur(stacked, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
        weight = blurred[..., 3:4]
        estimate = np.where(weight > 0.05, blurred[..., :3] / np.maximum(weight, 0.05), estimate)
    return np.where(known[..., None] > 0, image, estimate)


def solve3(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """x with matrix @ x = vector for every pixel: (H, W, 3, 3), (H, W, 3) -> (H, W, 3) float32. By
    the adjugate in float64: several times faster than a batched LU for 3 x 3 systems."""
    m = matrix.astype(np.float64)
    v = vector.astype(np.float64)
    cofactor = np.empty_like(m)
    for i in range(3):
        for j in range(3):
            r, c = [k for k in range(3) if k != i], [k for k in range(3) if k != j]
            cofactor[..., i, j] = (-1) ** (i + j) * (m[..., r[0], c[0]] * m[..., r[1], c[1]] - m[..., r[0], c[1]] * m[..., r[1], c[0]])
    determinant = np.einsum("...j,...j->...", m[..., 0, :], cofactor[..., 0, :])
    return (np.einsum("...ji,...j->...i", cofactor, v) / determinant[..., None]).astype(np.float32)


def guided_coefficients(image: np.ndarray, source: np.ndarray, radius: int, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """He et al.'s guided filter with a colour guide (H, W, 3): per pixel the window-averaged
    affine coefficients (a (H, W, 3), b (H, W)) that refit ``source`` (H, W) as a * colour + b."""
    size = (2 * radius + 1, 2 * radius + 1)

    def mean(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, size, borderType=cv2.BORDER_REFLECT)

    image = image.astype(np.float32)
    source = source.astype(np.float32)
    mean_i, mean_p = mean(image), mean(source)
    cov_ip = mean(image * source[..., None]) - mean_i * mean_p[..., None]
    outer = np.einsum("hwc,hwd->hwcd", image, image).reshape(*image.shape[:2], 9)
    cov_ii = (mean(outer).reshape(*image.shape[:2], 3, 3) - np.einsum("hwc,hwd->hwcd", mean_i, mean_i))
    a = solve3(cov_ii + epsilon * np.eye(3, dtype=np.float32), cov_ip)
    b = mean_p - np.sum(a * mean_i, axis=-1)
    return mean(a), mean(b)


def guided_filter(image: np.ndarray, source: np.ndarray, radius: int, epsilon: float) -> np.ndarray:
    """He et al.'s guided filter with a colour guide (H, W, 3): ``source`` (H, W) refit, in every
    window, as an affine function of the image colour (the local colour-line model of matting)."""
    a, b = guided_coefficients(image, source, radius, epsilon)
    return np.sum(a * image.astype(np.float32), axis=-1) + b


def guided_upsample(small_image: np.ndarray, small_source: np.ndarray, image: np.ndarray, radius: int,
                    epsilon: float) -> np.ndarray:
    """``small_source`` (h, w), computed on ``small_image`` (h, w, 3), brought to ``image``'s size
    (H, W, 3) edge-aware (He and Sun's fast guided filter): the affine coefficients are fitted at
    the small size, upsampled bilinearly, and applied to the full-size colours, so edges follow
    the full-size picture."""
    a, b = guided_coefficients(small_image, small_source, radius, epsilon)
    size = (image.shape[1], image.shape[0])
    a, b = cv2.resize(a, size, interpolation=cv2.INTER_LINEAR), cv2.resize(b, size, interpolation=cv2.INTER_LINEAR)
    return np.sum(a * image.astype(np.float32), axis=-1) + b


def colour_guidance(image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """(H, W, 8): spread foreground colour, spread background colour, the unmixing alpha, and the
    trimap refit by the guided filter."""
    foreground = spread(image, trimap == FOREGROUND)
    background = spread(image, trimap == BACKGROUND)
    difference = foreground - background
    alpha = np.sum((image - background) * difference, axis=-1) / (np.sum(difference**2, axis=-1) + 1e-3)
    alpha = np.where(trimap == FOREGROUND, 1.0, np.where(trimap == BACKGROUND, 0.0, np.clip(alpha, 0.0, 1.0)))
    guided = np.clip(guided_filter(image, alpha, GUIDED_RADIUS, GUIDED_EPSILON), 0.0, 1.0)
    guided = np.where(trimap == FOREGROUND, 1.0, np.where(trimap == BACKGROUND, 0.0, guided))
    return np.concatenate([foreground, background, alpha[..., None], guided[..., None]], axis=-1).astype(np.float32)
