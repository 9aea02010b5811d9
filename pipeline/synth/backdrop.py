"""Backgrounds for face photographs: the map as the camera sees it, that view out of focus,
or an indoor clutter of shelves, frames, doors, windows and lamps.

Clutter is drawn in linear radiance at the brightness of the map that lights the
face (a room lit by the same light), then blurred by a random depth of field, so
matting and segmentation meet busy, real-looking edges behind people, not only
smooth skies.
"""

from __future__ import annotations

import cv2
import numpy as np

KINDS = ("map", "blurred_map", "clutter")
SHARES = (0.3, 0.2, 0.5)
# Wall, wood, fabric, paper and metal tones (linear albedo)
PALETTE = np.array([[0.55, 0.52, 0.46], [0.32, 0.18, 0.09], [0.12, 0.07, 0.04], [0.6, 0.6, 0.62], [0.08, 0.1, 0.16],
                    [0.4, 0.12, 0.08], [0.15, 0.3, 0.18], [0.7, 0.62, 0.4], [0.03, 0.03, 0.03], [0.25, 0.35, 0.5]])


def _colour(rng: np.random.Generator) -> np.ndarray:
    return PALETTE[rng.integers(len(PALETTE))] * rng.uniform(0.6, 1.3, 3)


def clutter(rng: np.random.Generator, size: int, brightness: float) -> np.ndarray:
    """An indoor backdrop (size, size, 3), linear, mean luminance about ``brightness``."""
    image = np.empty((size, size, 3), dtype=np.float32)
    wall, floor_at = _colour(rng), int(size * rng.uniform(0.55, 1.1))
    image[:] = wall
    ramp = np.linspace(rng.uniform(0.7, 1.0), rng.uniform(0.7, 1.2), size, dtype=np.float32)
    image *= ramp[None, :, None] if rng.uniform() < 0.5 else ramp[:, None, None]
    if floor_at < size:
        image[floor_at:] = _colour(rng)
    for _ in range(int(rng.integers(4, 14))):  # shelves, frames, doors, furniture
        w, h = (rng.uniform(0.05, 0.5, 2) * size).astype(int) + 2
        x, y = rng.integers(-w // 2, size, 2)
        colour = _colour(rng)
        if rng.uniform() < 0.3:  # a framed picture or a window: border and inside
            cv2.rectangle(image, (int(x), int(y)), (int(x + w), int(y + h)), colour.tolist(), -1)
            inner = _colour(rng) * (4.0 if rng.uniform() < 0.3 else 1.0)  # some are bright windows
            border = max(1, int(min(w, h) * 0.12))
            cv2.rectangle(image, (int(x + border), int(y + border)), (int(x + w - border), int(y + h - border)),
                          inner.tolist(), -1)
        elif rng.uniform() < 0.5:
            cv2.rectangle(image, (int(x), int(y)), (int(x + w), int(y + h)), colour.tolist(), -1)
        else:  # shelves of books: thin vertical strips
            for k in range(int(rng.integers(3, 12))):
                strip = max(1, int(w / 10))
                cv2.rectangle(image, (int(x + k * strip), int(y)), (int(x + (k + 1) * strip - 1), int(y + h)),
                              _colour(rng).tolist(), -1)
    for _ in range(int(rng.integers(0, 3))):  # lamps: small bright blobs
        centre = tuple(int(v) for v in rng.integers(0, size, 2))
        cv2.circle(image, centre, int(rng.uniform(0.02, 0.06) * size) + 1, (np.full(3, 6.0) * rng.uniform(0.5, 2)).tolist(), -1)
    texture = 1 + 0.06 * cv2.GaussianBlur(rng.normal(size=(size, size)).astype(np.float32), (0, 0), 0.7)
    image *= texture[..., None]
    sigma = rng.uniform(0.0, 0.03) * size  # depth of field
    if sigma > 0.3:
        image = cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    luminance = float(np.mean(image @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)))
    return np.clip(image, 0.0, None) * (brightness / max(luminance, 1e-9))


def blurred(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The map as seen, out of focus (a shallow depth of field)."""
    sigma = rng.uniform(0.02, 0.06) * image.shape[0]
    return cv2.GaussianBlur(image.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def choose_kind(rng: np.random.Generator) -> str:
    return KINDS[int(rng.choice(len(KINDS), p=SHARES))]
