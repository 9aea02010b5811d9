"""Arrays (float16 ``.npy``) and pictures (PNG), with errors that name the file."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from pipeline import DataError
from pipeline.io.atomic import atomic_file

FLOAT16_MAX = float(np.finfo(np.float16).max)


def save_array(path: str | Path, array: np.ndarray, dtype=np.float16) -> None:
    """Write ``array`` as ``.npy`` in ``dtype``; refuse values the dtype cannot hold."""
    array = np.asarray(array)
    if np.issubdtype(dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise DataError(f"{path}: refusing to write non-finite values")
        if np.dtype(dtype) == np.float16 and np.abs(array).max(initial=0.0) > FLOAT16_MAX:
            raise DataError(f"{path}: values exceed the float16 range ({FLOAT16_MAX})")
    with atomic_file(path) as handle:
        np.save(handle, np.ascontiguousarray(array, dtype=dtype), allow_pickle=False)


def load_array(path: str | Path, shape: tuple[int | None, ...] | None = None, mmap: bool = True) -> np.ndarray:
    """Read an ``.npy`` file, checking its shape (``None`` matches any size)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        array = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise DataError(f"{path}: not a readable .npy array ({err})") from err
    if shape is not None and not _shape_matches(array.shape, shape):
        raise DataError(f"{path}: shape {array.shape} disagrees with the expected {shape}")
    return array


@functools.lru_cache(maxsize=1 << 16)  # about 200 bytes an entry: bounded, whatever the dataset's size
def _npy_layout(path: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, offset of the data) of a C-ordered ``.npy`` file, from its header."""
    array = load_array(path)  # a memory map: its header parsed, nothing read; errors name the file
    shape, dtype, offset, ordered = array.shape, array.dtype, array.offset, array.flags.c_contiguous
    del array
    if not ordered or dtype.hasobject or len(shape) < 2:
        raise DataError(f"{path}: expected a C-ordered numeric array of at least two dimensions")
    return tuple(shape), dtype, offset


def read_window(path: str | Path, rows: slice, columns: slice, leading: bool = False) -> np.ndarray:
    """``array[rows, columns]`` of an ``.npy`` file (``array[:, rows, columns]`` with ``leading``)
    as float32, reading only those rows from disk: one read per leading index, no memory map.
    The header is parsed once per process. Slices take no step."""
    shape, dtype, offset = _npy_layout(str(path))
    lead, (height, width, *rest) = (shape[:1], shape[1:]) if leading else ((), shape)
    top, bottom, _ = rows.indices(height)
    left, right, _ = columns.indices(width)
    row_bytes = width * int(np.prod(rest, dtype=np.int64)) * dtype.itemsize
    plane_bytes = height * row_bytes
    count = max(bottom - top, 0)
    out = np.empty(lead + (count, right - left, *rest), dtype=np.float32)
    fd = os.open(path, os.O_RDONLY)
    try:
        for index in range(lead[0] if leading else 1):
            data = os.pread(fd, count * row_bytes, offset + index * plane_bytes + top * row_bytes)
            if len(data) != count * row_bytes:
                raise DataError(f"{path}: file is shorter than its header says ({shape} {dtype})")
            block = np.frombuffer(data, dtype=dtype).reshape(count, width, *rest)[:, left:right]
            out[index if leading else ...] = block
    finally:
        os.close(fd)
    return out


def _shape_matches(actual: tuple[int, ...], expected: tuple[int | None, ...]) -> bool:
    return len(actual) == len(expected) and all(e is None or a == e for a, e in zip(actual, expected))


def srgb_curve(linear: np.ndarray) -> np.ndarray:
    """Linear radiance, clipped to [0, 1] -> sRGB values in [0, 1] (float32; the standard piecewise curve)."""
    x = np.clip(np.asarray(linear, dtype=np.float32), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055).astype(np.float32)


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """The inverse of ``srgb_curve``: sRGB values in [0, 1] -> linear (float32)."""
    x = np.clip(np.asarray(srgb, dtype=np.float32), 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, np.power((x + 0.055) / 1.055, 2.4)).astype(np.float32)


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Linear radiance in [0, 1] -> 8-bit sRGB."""
    return np.round(srgb_curve(linear) * 255.0).astype(np.uint8)


def save_png(path: str | Path, image: np.ndarray) -> None:
    """Write an 8-bit picture, (H, W), (H, W, 3) RGB or (H, W, 4) RGBA."""
    import cv2

    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"{path}: PNG pictures are uint8, got {image.dtype}")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR if image.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise DataError(f"{path}: PNG encoding failed")
    with atomic_file(path) as handle:
        handle.write(encoded.tobytes())


def load_png(path: str | Path) -> np.ndarray:
    """Read a PNG (or any 8-bit image OpenCV reads) as RGB uint8."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DataError(f"{path}: not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
