"""Contact sheets: labelled grids of pictures for people to look at."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.io.arrays import srgb_encode


def to_picture(image: np.ndarray, kind: str = "radiance", exposure: float | None = None) -> np.ndarray:
    """An 8-bit RGB picture (H, W, 3) of a linear image, a unit-vector map or a scalar map.

    ``radiance``: exposed so the 99th percentile maps to 1, then sRGB-encoded.
    ``vectors``: components in [-1, 1] mapped to [0, 255]. ``scalar``: [0, 1] grey.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    if kind == "vectors":
        return np.round((np.clip(image, -1, 1) + 1) * 127.5).astype(np.uint8)
    if kind == "scalar":
        return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    if exposure is None:
        high = np.percentile(image, 99)
        exposure = 1.0 / high if high > 0 else 1.0
    return srgb_encode(image * exposure)


def label(picture: np.ndarray, text: str) -> np.ndarray:
    """A copy of ``picture`` with ``text`` in its top-left corner."""
    import cv2

    out = np.ascontiguousarray(picture.copy())
    scale = max(out.shape[0] / 256, 0.3)
    cv2.putText(out, text, (2, int(12 * scale) + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * scale, (0, 0, 0), 2, cv2.LINE_AA)
    cv2.putText(out, text, (2, int(12 * scale) + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def grid(rows: Sequence[Sequence[np.ndarray]], pad: int = 2) -> np.ndarray:
    """Tile rows of pictures into one (cells are resized to the first picture's height)."""
    import cv2

    height = rows[0][0].shape[0]
    strips = []
    for row in rows:
        cells = [cv2.resize(p, (max(1, round(p.shape[1] * height / p.shape[0])), height), interpolation=cv2.INTER_AREA)
                 if p.shape[0] != height else p for p in row]
        strip = np.concatenate([np.pad(c, ((pad, pad), (pad, pad), (0, 0)), constant_values=32) for c in cells], axis=1)
        strips.append(strip)
    width = max(s.shape[1] for s in strips)
    strips = [np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0)), constant_values=32) for s in strips]
    return np.concatenate(strips, axis=0)
