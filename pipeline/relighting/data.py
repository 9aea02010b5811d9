"""Relighting samples from the relit light-stage pairs, and training batches.

A sample is one direction of one relit pair: the photo of a subject view under
map a (its matted foreground, sRGB, premultiplied, exposed for the face) with
the truth under map b (relit foreground, light maps) and the view's G-buffers.
Each pair gives two samples, a -> b and b -> a. Radiance (relit images, light
maps) is divided by the target map's mean radiance (``light_scale``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from pipeline import DataError
from pipeline.io.arrays import load_array, read_window, srgb_curve
from pipeline.io.manifest import MANIFEST, read_table
from pipeline.light.equirect import pixel_solid_angles
from pipeline.light.pairs import Environment, load_environments
from pipeline.light.tonemap import LUMINANCE, unpremultiply
from pipeline.training import CropPlan, KeyedDataset, SampleKey


def light_scale(env: np.ndarray) -> float:
    """1 / (the map's mean luminance over the sphere): (H, 2H, 3) -> scalar."""
    mean = float(np.einsum("hwc,c,hw->", env, LUMINANCE, pixel_solid_angles(env.shape[0]))) / (4 * np.pi)
    if not np.isfinite(mean) or mean <= 0:
        raise DataError(f"environment map has mean luminance {mean}: nothing to relight by")
    return 1.0 / mean


def matted_input(relit: np.ndarray, alpha: np.ndarray, exposure: float) -> np.ndarray:
    """The network input from a premultiplied linear foreground (H, W, 3): its straight colour,
    exposed and sRGB-encoded, premultiplied again (as a matting module hands it over)."""
    return srgb_curve(unpremultiply(relit, alpha) * exposure) * alpha[..., None]


@dataclass(frozen=True)
class RelightSample:
    name: str
    image: np.ndarray  # (H, W, 3) input: sRGB foreground premultiplied by alpha
    alpha: np.ndarray  # (H, W)
    normals: np.ndarray  # (H, W, 3) camera space
    albedo: np.ndarray  # (H, W, 3)
    target: np.ndarray  # (H, W, 3) relit under the target map, premultiplied, times ``scale``
    diffuse: np.ndarray  # (H, W, 3) diffuse light map of the target map at ``normals``, times ``scale``
    specular: np.ndarray  # (K, H, W, 3) Phong light maps at the reflection vectors, times ``scale``
    scale: float  # light_scale of the target map
    camera: np.ndarray  # (25,)
    environment: Environment  # the target map, turned as in the pair
    exposure: float  # the target's exposure for the face (its composite's)


@dataclass(frozen=True)
class SampleSource:
    """Where a sample came from: to fetch the photo and composites for end-to-end evaluation."""

    subject: str
    view: int
    relight: Path
    source_composite: str  # the input photo (composite over the source side's background), PNG
    target_composite: str  # the true composite under the target map, PNG
    target_background: str  # the target map as the camera sees it, linear .npy


@dataclass(frozen=True)
class SampleRef:
    """One direction of one relit pair, without its pixels: what a lazy reader needs to load it."""

    name: str
    relight: Path
    view: dict  # the lightstage paths of this view: alpha, normals, albedo (absolute)
    source: dict  # the source side's relative paths in ``relight``: relit, ...
    target: dict  # the target side's: relit, diffuse, specular
    exposure_source: float
    exposure_target: float
    scale: float
    camera: np.ndarray  # (25,)
    environment: Environment
    origin: SampleSource


SIDE_FILES = ("relit", "diffuse", "specular", "background", "composite")


def sample_refs(relight: Path, lightstage: Path, lightmaps: Path, split: str, limit: int | None = None) -> list[SampleRef]:
    """Both directions of every pair in ``split`` (the first ``limit`` pairs if given)."""
    pairs = read_table(relight / MANIFEST)
    pairs = pairs[pairs["split"] == split]
    if limit is not None:
        pairs = pairs.head(limit)
    views = read_table(lightstage / MANIFEST).set_index(["subject", "view"])
    _, maps = load_environments(lightmaps)
    refs = []
    for row in pairs.itertuples():
        view = views.loc[(row.subject, row.view)]
        paths = {key: lightstage / view[key] for key in ("alpha", "normals", "albedo")}
        for source, target in ("ab", "ba"):
            name = getattr(row, f"hdri_{target}")
            if name not in maps:
                raise DataError(f"{lightmaps / MANIFEST}: map {name!r} of {relight / MANIFEST} is missing")
            environment = maps[name].turned(getattr(row, f"rotation_{target}"))
            side = {s: {key: getattr(row, f"{key}_{s}") for key in SIDE_FILES} for s in (source, target)}
            refs.append(SampleRef(
                name=f"{row.subject}_v{row.view:02d}_p{row.pair:02d}_{source}{target}", relight=relight, view=paths,
                source=side[source], target=side[target], exposure_source=float(getattr(row, f"exposure_{source}")),
                exposure_target=float(getattr(row, f"exposure_{target}")), scale=light_scale(environment.env),
                camera=np.asarray(row.camera, dtype=np.float64), environment=environment,
                origin=SampleSource(subject=row.subject, view=int(row.view), relight=relight,
                                    source_composite=side[source]["composite"], target_composite=side[target]["composite"],
                                    target_background=side[target]["background"])))
    return refs


Window = tuple[slice, slice]
WHOLE: Window = (slice(None), slice(None))


def _read(path: Path, window: Window, leading: bool = False) -> np.ndarray:
    """A window of an array as float32: only those rows are read from disk."""
    return read_window(path, window[0], window[1], leading)


FIELDS = ("image", "alpha", "normals", "albedo", "target", "diffuse", "specular")
INTRINSICS = ("normals", "albedo", "diffuse", "specular")


def load_fields(ref: SampleRef, window: Window = WHOLE, fields: tuple[str, ...] = FIELDS, intrinsics: Path | None = None,
                index: int | None = None) -> dict[str, np.ndarray]:
    """The arrays ``fields`` of a sample (names of RelightSample), a window of each, read on demand
    and nothing else. With ``intrinsics`` (a folder of ``write_intrinsics``) normals, albedo and
    light maps are the predicted ones of sample ``index``."""
    alpha = _read(ref.view["alpha"], window)
    arrays = {}
    for key in fields:
        if key == "alpha":
            arrays[key] = alpha
        elif key == "image":
            arrays[key] = matted_input(_read(ref.relight / ref.source["relit"], window), alpha, ref.exposure_source)
        elif key in INTRINSICS and intrinsics is not None:
            arrays[key] = _read(intrinsics / f"{index:06d}_{key}.npy", window, key == "specular")
        elif key in ("normals", "albedo"):
            arrays[key] = _read(ref.view[key], window)
        elif key in ("target", "diffuse", "specular"):
            name = ref.target["relit" if key == "target" else key]
            arrays[key] = _read(ref.relight / name, window, key == "specular") * np.float32(ref.scale)
        else:
            raise KeyError(f"unknown sample field {key!r} (known: {', '.join(FIELDS)})")
    return arrays


def load_sample(ref: SampleRef, window: Window = WHOLE, intrinsics: Path | None = None, index: int | None = None) -> RelightSample:
    """A sample's arrays (or a window of them), read on demand. With ``intrinsics`` (a folder of
    ``write_intrinsics``) its normals, albedo and light maps are the predicted ones of sample ``index``."""
    return RelightSample(name=ref.name, scale=ref.scale, camera=ref.camera, environment=ref.environment,
                         exposure=ref.exposure_target, **load_fields(ref, window, FIELDS, intrinsics, index))


def load_samples(relight: Path, lightstage: Path, lightmaps: Path, split: str,
                 limit: int | None = None) -> tuple[list[RelightSample], list[SampleSource]]:
    """Both directions of every pair in ``split``, whole and in memory (for evaluation, which is small)."""
    refs = sample_refs(relight, lightstage, lightmaps, split, limit)
    return [load_sample(ref) for ref in refs], [ref.origin for ref in refs]


class RelightBatch(NamedTuple):
    """A training batch; a field a step does not read is None (not loaded)."""

    image: torch.Tensor | None = None  # (B, 3, h, w)
    alpha: torch.Tensor | None = None  # (B, 1, h, w)
    normals: torch.Tensor | None = None  # (B, 3, h, w)
    albedo: torch.Tensor | None = None  # (B, 3, h, w)
    target: torch.Tensor | None = None  # (B, 3, h, w)
    diffuse: torch.Tensor | None = None  # (B, 3, h, w)
    specular: torch.Tensor | None = None  # (B, K, 3, h, w)
    mix: torch.Tensor | None = None  # (B,) uniform: where the critic's interpolate lies between real and fake


def _crop_origin(alpha: np.ndarray, crop: int, rng: np.random.Generator) -> tuple[int, int]:
    """A crop corner, centred on a random foreground pixel (most of a frame is background)."""
    height, width = alpha.shape
    ys, xs = np.nonzero(alpha > 0.5)
    if len(ys):
        pick = rng.integers(len(ys))
        y, x = ys[pick] - crop // 2, xs[pick] - crop // 2
    else:
        y, x = rng.integers(height - crop + 1), rng.integers(width - crop + 1)
    return int(np.clip(y, 0, height - crop)), int(np.clip(x, 0, width - crop))


def mirrored(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sample arrays flipped left to right (the normals' x flips with the image)."""
    flipped = {key: np.ascontiguousarray(value[..., ::-1] if key == "alpha" else value[..., ::-1, :])
               for key, value in arrays.items()}
    if "normals" in flipped:
        flipped["normals"] *= np.array([-1.0, 1.0, 1.0], dtype=np.float32)
    return flipped


class RelightCrops(KeyedDataset):
    """Training crops: item ``i`` is a random sample, a crop centred on its foreground, mirrored
    half the time, and the uniform ``mix`` of the critic's interpolate, all drawn from the
    generator of (seed, i). Only the crop's rows of the arrays in ``fields`` are read."""

    purpose = "relight-crops"

    def __init__(self, refs: list[SampleRef], crops: CropPlan, seed: int, intrinsics: Path | None = None,
                 fields: tuple[str, ...] = FIELDS):
        super().__init__(seed)
        self.refs, self.crops, self.intrinsics, self.fields = refs, crops, intrinsics, tuple(fields)

    def item(self, rng: np.random.Generator, key: SampleKey) -> tuple[dict[str, np.ndarray], float]:
        k = int(rng.integers(len(self.refs)))
        ref = self.refs[k]
        crop = self.crops.at_step(key.step)
        y, x = _crop_origin(_read(ref.view["alpha"], WHOLE), crop, rng)
        arrays = load_fields(ref, (slice(y, y + crop), slice(x, x + crop)), self.fields, self.intrinsics, k)
        flip, mix = rng.uniform() < 0.5, rng.uniform()
        return (mirrored(arrays) if flip else arrays), mix

    def collate(self, items: list) -> RelightBatch:
        return RelightBatch(**{key: channels_first(np.stack([arrays[key] for arrays, _ in items])) for key in self.fields},
                            mix=torch.tensor([m for _, m in items], dtype=torch.float32))


def channels_first(array: np.ndarray) -> torch.Tensor:
    """(N, H, W) -> (N, 1, H, W); (N, H, W, C) -> (N, C, H, W); (N, K, H, W, C) -> (N, K, C, H, W)."""
    tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    if tensor.dim() == 3:
        return tensor[:, None]
    return tensor.movedim(-1, -3)


def training_refs(relight: Path, lightstage: Path, lightmaps: Path, crop: int) -> list[SampleRef]:
    """The training split, checked to be there and large enough for ``crop``."""
    refs = sample_refs(relight, lightstage, lightmaps, "train")
    if not refs:
        raise DataError(f"{relight / MANIFEST}: no training pairs")
    size = min(min(load_array(ref.view["alpha"]).shape) for ref in refs)
    if crop > size:
        raise DataError(f"{relight}: images are {size} px, smaller than the training crop ({crop})")
    return refs
