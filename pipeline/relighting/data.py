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
from pipeline.io.arrays import load_array, srgb_curve
from pipeline.io.manifest import MANIFEST, read_table
from pipeline.light.equirect import pixel_solid_angles
from pipeline.light.pairs import Environment, load_environments
from pipeline.light.tonemap import LUMINANCE


def light_scale(env: np.ndarray) -> float:
    """1 / (the map's mean luminance over the sphere): (H, 2H, 3) -> scalar."""
    mean = float(np.einsum("hwc,c,hw->", env, LUMINANCE, pixel_solid_angles(env.shape[0]))) / (4 * np.pi)
    if not np.isfinite(mean) or mean <= 0:
        raise DataError(f"environment map has mean luminance {mean}: nothing to relight by")
    return 1.0 / mean


def unpremultiply(premultiplied: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight colour (H, W, C) of a premultiplied image; zero where alpha (H, W) is (nearly) zero."""
    return np.divide(premultiplied, alpha[..., None], out=np.zeros_like(premultiplied), where=alpha[..., None] > 1e-3)


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


def _side(relight: Path, row, key: str, side: str) -> np.ndarray:
    """One side's array of a relit pair, e.g. ``relit_b``, as float32."""
    return np.asarray(load_array(relight / getattr(row, f"{key}_{side}")), dtype=np.float32)


def load_samples(relight: Path, lightstage: Path, lightmaps: Path, split: str,
                 limit: int | None = None) -> tuple[list[RelightSample], list[SampleSource]]:
    """Both directions of every pair in ``split`` (the first ``limit`` pairs if given)."""
    pairs = read_table(relight / MANIFEST)
    pairs = pairs[pairs["split"] == split]
    if limit is not None:
        pairs = pairs.head(limit)
    views = read_table(lightstage / MANIFEST).set_index(["subject", "view"])
    _, maps = load_environments(lightmaps)
    samples, sources = [], []
    for row in pairs.itertuples():
        view = views.loc[(row.subject, row.view)]
        alpha, normals, albedo = (np.asarray(load_array(lightstage / view[key]), dtype=np.float32)
                                  for key in ("alpha", "normals", "albedo"))
        for source, target in ("ab", "ba"):
            name = getattr(row, f"hdri_{target}")
            if name not in maps:
                raise DataError(f"{lightmaps / MANIFEST}: map {name!r} of {relight / MANIFEST} is missing")
            environment = maps[name].turned(getattr(row, f"rotation_{target}"))
            scale = light_scale(environment.env)
            samples.append(RelightSample(
                name=f"{row.subject}_v{row.view:02d}_p{row.pair:02d}_{source}{target}",
                image=matted_input(_side(relight, row, "relit", source), alpha, getattr(row, f"exposure_{source}")),
                alpha=alpha, normals=normals, albedo=albedo, target=_side(relight, row, "relit", target) * scale,
                diffuse=_side(relight, row, "diffuse", target) * scale, specular=_side(relight, row, "specular", target) * scale,
                scale=scale, camera=np.asarray(row.camera, dtype=np.float64), environment=environment,
                exposure=float(getattr(row, f"exposure_{target}"))))
            sources.append(SampleSource(
                subject=row.subject, view=int(row.view), relight=relight, source_composite=getattr(row, f"composite_{source}"),
                target_composite=getattr(row, f"composite_{target}"), target_background=getattr(row, f"background_{target}")))
    return samples, sources


class RelightBatch(NamedTuple):
    image: torch.Tensor  # (B, 3, h, w)
    alpha: torch.Tensor  # (B, 1, h, w)
    normals: torch.Tensor  # (B, 3, h, w)
    albedo: torch.Tensor  # (B, 3, h, w)
    target: torch.Tensor  # (B, 3, h, w)
    diffuse: torch.Tensor  # (B, 3, h, w)
    specular: torch.Tensor  # (B, K, 3, h, w)


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


def sample_batch(samples: list[RelightSample], rng: np.random.Generator, batch: int, crop: int) -> RelightBatch:
    """Random crops, half of them mirrored (normals' x flips with the image)."""
    fields = {key: [] for key in RelightBatch._fields}
    for _ in range(batch):
        sample = samples[rng.integers(len(samples))]
        y, x = _crop_origin(sample.alpha, crop, rng)
        window = (slice(y, y + crop), slice(x, x + crop))
        mirror = rng.uniform() < 0.5
        for key in RelightBatch._fields:
            value = getattr(sample, key)
            value = value[:, window[0], window[1]] if key == "specular" else value[window]
            if mirror:
                value = value[:, ::-1] if key == "alpha" else value[..., ::-1, :]  # the width axis
                if key == "normals":
                    value = value * np.array([-1.0, 1.0, 1.0], dtype=np.float32)
            fields[key].append(value)
    return RelightBatch(**{key: channels_first(np.stack(values)) for key, values in fields.items()})


def channels_first(array: np.ndarray) -> torch.Tensor:
    """(N, H, W) -> (N, 1, H, W); (N, H, W, C) -> (N, C, H, W); (N, K, H, W, C) -> (N, K, C, H, W)."""
    tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    if tensor.dim() == 3:
        return tensor[:, None]
    return tensor.movedim(-1, -3)


def training_samples(relight: Path, lightstage: Path, lightmaps: Path, crop: int) -> list[RelightSample]:
    """The training split's samples, checked to be there and large enough for ``crop``."""
    samples, _ = load_samples(relight, lightstage, lightmaps, "train")
    if not samples:
        raise DataError(f"{relight / MANIFEST}: no training pairs")
    size = min(min(s.alpha.shape) for s in samples)
    if crop > size:
        raise DataError(f"{relight}: images are {size} px, smaller than the training crop ({crop})")
    return samples
