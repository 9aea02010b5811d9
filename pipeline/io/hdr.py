"""Real HDR environment maps at the edges: Radiance ``.hdr`` (OpenCV) and OpenEXR ``.exr``.

Each map is checked (2:1 equirectangular, finite) with an error naming the file,
and brought to the pipeline's working size: area averaging when shrinking (each
output pixel is the mean of the input pixels it covers, weighted by their solid
angles, so that the map keeps its energy), bilinear when enlarging.

Widely used free maps carry small negative values left by their processing
(seen: up to 0.6 % of the pixels, minimum about -0.004, under 1e-6 of the
energy). ``clear_negatives`` sets them to 0 when their energy is a negligible
share of the map's (``lightmaps.max_negative_share``) and refuses the map
otherwise, naming the file, the share and the minimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline import DataError
from pipeline.light.equirect import pixel_solid_angles

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


@dataclass(frozen=True)
class NegativeRadiance:
    """The negative values ``clear_negatives`` found in a map (and set to 0)."""

    pixels: int  # pixels with a negative channel
    share: float  # their energy over the map's (absolute values, weighted by solid angle)
    minimum: float  # the most negative value (0 when none)


def clear_negatives(path: str | Path, image: np.ndarray, max_share: float) -> tuple[np.ndarray, NegativeRadiance]:
    """``image`` with its negative values set to 0, if they carry at most ``max_share`` of its
    energy; a ``DataError`` naming ``path``, the share and the minimum otherwise."""
    negative = image < 0
    if not negative.any():
        return image, NegativeRadiance(pixels=0, share=0.0, minimum=0.0)
    weights = pixel_solid_angles(image.shape[0])[..., None]
    total = float(np.sum(np.abs(image, dtype=np.float64) * weights))
    share = float(np.sum(np.where(negative, -image.astype(np.float64), 0.0) * weights)) / total
    found = NegativeRadiance(pixels=int(negative.any(axis=-1).sum()), share=share, minimum=float(image.min()))
    if share > max_share:
        raise DataError(f"{path}: negative radiance carries {share:.3g} of the map's energy (minimum {found.minimum:.4g} "
                        f"in {found.pixels} pixels); at most {max_share:.3g} (lightmaps.max_negative_share) is set to 0")
    return np.maximum(image, 0.0).astype(image.dtype), found


def resize_equirect(image: np.ndarray, height: int) -> np.ndarray:
    """The map at ``height`` x 2 ``height``: area averaging down, bilinear up. Shrinking averages
    each output pixel's inputs weighted by their solid angles, so a map keeps its energy (radiance
    times solid angle) exactly; a plain mean would move a small sun's energy by up to the ratio of
    its row's solid angle to its output row's (6 % at 43 degrees from the zenith, 256 -> 16 rows)."""
    import cv2

    if image.shape[0] == height:
        return image.astype(np.float32)
    if image.shape[0] < height:
        return cv2.resize(image.astype(np.float32), (2 * height, height), interpolation=cv2.INTER_LINEAR)
    weights = np.broadcast_to(pixel_solid_angles(image.shape[0])[:, :1], image.shape[:2]).astype(np.float64)
    weighted = cv2.resize(image.astype(np.float64) * weights[..., None], (2 * height, height), interpolation=cv2.INTER_AREA)
    area = cv2.resize(np.ascontiguousarray(weights), (2 * height, height), interpolation=cv2.INTER_AREA)
    return (weighted / area[..., None]).astype(np.float32)


def load_equirect(path: str | Path, height: int | None, max_negative_share: float) -> tuple[np.ndarray, NegativeRadiance]:
    """A real map, validated, cleared of negligible negatives and resized to ``height`` x 2
    ``height`` (None: its own size; float32 linear RGB), with what was cleared."""
    path = Path(path)
    image = read_hdr_image(path)
    validate_equirect(path, image)
    image, negatives = clear_negatives(path, image, max_negative_share)
    return resize_equirect(image, height or image.shape[0]), negatives


def find_maps(folder: str | Path) -> list[Path]:
    """The ``.hdr`` and ``.exr`` files directly in ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: folder of real HDR maps not found")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in HDR_SUFFIXES)
