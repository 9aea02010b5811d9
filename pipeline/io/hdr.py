"""Real HDR environment maps at the edges: Radiance ``.hdr`` (OpenCV) and OpenEXR ``.exr``.

Each map is checked (2:1 equirectangular, finite, non-negative) with an error
naming the file, and brought to the pipeline's working size: area averaging
when shrinking (each output pixel is the mean of the input pixels it covers),
bilinear when enlarging.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline import DataError

HDR_SUFFIXES = (".hdr", ".exr")


def read_hdr_image(path: str | Path) -> np.ndarray:
    """Linear RGB float32 (H, W, 3) from a ``.hdr`` or ``.exr`` file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".hdr":
        import cv2

        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR)
        if image is None or image.ndim != 3:
            raise DataError(f"{path}: not a readable Radiance HDR image")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32)
    if suffix == ".exr":
        return _read_exr(path)
    raise DataError(f"{path}: unsupported HDR format (expected {', '.join(HDR_SUFFIXES)})")


def _read_exr(path: Path) -> np.ndarray:
    import OpenEXR

    try:
        with OpenEXR.File(str(path)) as handle:
            channels = handle.channels()
            for name in ("RGB", "RGBA"):
                if name in channels:
                    return np.asarray(channels[name].pixels, dtype=np.float32)[..., :3]
            if "Y" in channels:
                return np.repeat(np.asarray(channels["Y"].pixels, dtype=np.float32)[..., None], 3, axis=-1)
    except DataError:
        raise
    except Exception as err:  # the bindings raise plain RuntimeError/OSError for damaged files
        raise DataError(f"{path}: not a readable OpenEXR image ({err})") from err
    raise DataError(f"{path}: no RGB, RGBA or Y channels (found {sorted(channels)})")


def write_exr(path: str | Path, image: np.ndarray) -> None:
    """Write linear RGB (H, W, 3) as a float32 OpenEXR file."""
    import OpenEXR

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, {"RGB": np.ascontiguousarray(image, dtype=np.float32)}) as handle:
        handle.write(str(path))


def write_hdr(path: str | Path, image: np.ndarray) -> None:
    """Write linear RGB (H, W, 3) as a Radiance ``.hdr`` file."""
    import cv2

    if not cv2.imwrite(str(path), cv2.cvtColor(np.asarray(image, dtype=np.float32), cv2.COLOR_RGB2BGR)):
        raise DataError(f"{path}: could not write a Radiance HDR image")


def validate_equirect(path: Path, image: np.ndarray) -> None:
    height, width = image.shape[:2]
    if width != 2 * height:
        raise DataError(f"{path}: an equirectangular map must be twice as wide as high, got {width}x{height}")
    if not np.isfinite(image).all():
        raise DataError(f"{path}: contains NaN or infinite values")
    if (image < 0).any():
        raise DataError(f"{path}: contains negative radiance")


def resize_equirect(image: np.ndarray, height: int) -> np.ndarray:
    """The map at ``height`` x 2 ``height``: area averaging down, bilinear up."""
    import cv2

    if image.shape[0] == height:
        return image.astype(np.float32)
    interpolation = cv2.INTER_AREA if image.shape[0] > height else cv2.INTER_LINEAR
    return cv2.resize(image.astype(np.float32), (2 * height, height), interpolation=interpolation)


def load_equirect(path: str | Path, height: int) -> np.ndarray:
    """A real map, validated and resized to ``height`` x 2 ``height`` (float32 linear RGB)."""
    path = Path(path)
    image = read_hdr_image(path)
    validate_equirect(path, image)
    return resize_equirect(image, height)


def find_maps(folder: str | Path) -> list[Path]:
    """The ``.hdr`` and ``.exr`` files directly in ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: folder of real HDR maps not found")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in HDR_SUFFIXES)
