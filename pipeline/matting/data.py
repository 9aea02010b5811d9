"""Matting samples from the relit light-stage data, and training batches.

Layers are kept in display space (sRGB in [0, 1], each side exposed as its relit
composite was) and composited there, as matting datasets are:
C = alpha F + (1 - alpha) B. Training re-composites each foreground over varied
backgrounds (other views' maps, mirrored, and procedural textures) and gives the
network either a trimap generated from the true alpha or a coarse trimap from a
simulated segmentation, its input at inference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from pipeline.io.arrays import load_array, load_png, srgb_curve
from pipeline.io.manifest import MANIFEST, read_table
from pipeline.light.tonemap import composite
from pipeline.matting.guidance import colour_guidance
from pipeline.matting.trimap import (band_width, coarse_segmentation, coarse_trimap, trimap_classes, trimap_from_alpha,
                                     true_trimap_classes, UNKNOWN)
from pipeline.models.matting import MattingBatch


@dataclass(frozen=True)
class MattingSample:
    name: str
    foreground: np.ndarray  # (H, W, 3) sRGB, zero where alpha is zero
    alpha: np.ndarray  # (H, W)
    background: np.ndarray  # (H, W, 3) sRGB
    trimap: np.ndarray  # (H, W) uint8, from the true alpha
    coarse_trimap: np.ndarray  # (H, W) uint8, from the simulated segmentation

    @property
    def image(self) -> np.ndarray:
        return composite(self.foreground * self.alpha[..., None], self.alpha, self.background)


def load_samples(relight: Path, lightstage: Path, trimaps: Path, split: str) -> list[MattingSample]:
    """One sample per relit side (a and b) of every pair in ``split``."""
    pairs = read_table(relight / MANIFEST)
    views = read_table(lightstage / MANIFEST).set_index(["subject", "view"])
    maps = read_table(trimaps / MANIFEST).set_index(["subject", "view"])
    samples = []
    for row in pairs[pairs["split"] == split].itertuples():
        key = (row.subject, row.view)
        alpha = np.asarray(load_array(lightstage / views.loc[key, "alpha"]), dtype=np.float32)
        trimap = load_png(trimaps / maps.loc[key, "trimap"])[..., 0]
        coarse = load_png(trimaps / maps.loc[key, "coarse_trimap"])[..., 0]
        for side in "ab":
            exposure = getattr(row, f"exposure_{side}")
            relit = np.asarray(load_array(relight / getattr(row, f"relit_{side}")), dtype=np.float32)
            background = np.asarray(load_array(relight / getattr(row, f"background_{side}")), dtype=np.float32)
            straight = np.divide(relit, alpha[..., None], out=np.zeros_like(relit), where=alpha[..., None] > 1e-3)
            samples.append(MattingSample(
                name=f"{row.subject}_v{row.view:02d}_p{row.pair:02d}_{side}", foreground=srgb_curve(straight * exposure),
                alpha=alpha, background=srgb_curve(background * exposure), trimap=trimap, coarse_trimap=coarse))
    return samples


def random_texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A procedural background (H, W, 3) in [0, 1]: blurred colour noise at a few scales."""
    texture = np.zeros((height, width, 3), dtype=np.float32)
    for sigma in rng.uniform(1.0, height / 4, size=3):
        layer = ndimage.gaussian_filter(rng.normal(size=(height, width)), sigma)
        layer = (layer - layer.min()) / max(np.ptp(layer), 1e-9)
        texture += layer[..., None] * rng.uniform(0, 1, 3)
    return np.clip(texture / 3 * rng.uniform(0.5, 1.5) + rng.uniform(0, 0.3, 3), 0, 1).astype(np.float32)


@dataclass(frozen=True)
class BatchRecipe:
    batch: int
    crop: int  # square crop side; the network is fully convolutional
    band_fraction: tuple[float, float]
    coarse_share: float  # share of samples given a coarse trimap
    texture_share: float  # share of samples over a procedural texture
    thin_fraction: float = 0.02
    jitter_fraction: float = 0.02
    coarse_band_fraction: float = 0.04


def _input_trimap(sample: MattingSample, rng: np.random.Generator, recipe: BatchRecipe) -> np.ndarray:
    size = max(sample.alpha.shape)
    choice = rng.uniform()
    if choice < recipe.coarse_share / 2:
        return sample.coarse_trimap
    if choice < recipe.coarse_share:
        segmentation = coarse_segmentation(sample.alpha, rng, round(recipe.thin_fraction * size), round(recipe.jitter_fraction * size))
        return coarse_trimap(segmentation, max(1, round(recipe.coarse_band_fraction * size)))
    if choice < (1 + recipe.coarse_share) / 2:
        return sample.trimap
    return trimap_from_alpha(sample.alpha, band_width(rng, size, recipe.band_fraction))


def _crop_origin(unknown: np.ndarray, crop: int, rng: np.random.Generator) -> tuple[int, int]:
    height, width = unknown.shape
    ys, xs = np.nonzero(unknown)
    if len(ys) and rng.uniform() < 0.8:  # mostly centred on the unknown band, where matting happens
        pick = rng.integers(len(ys))
        y, x = ys[pick] - crop // 2, xs[pick] - crop // 2
    else:
        y, x = rng.integers(height - crop + 1), rng.integers(width - crop + 1)
    return int(np.clip(y, 0, height - crop)), int(np.clip(x, 0, width - crop))


def to_batch(images, trimaps, alphas, foregrounds, backgrounds) -> MattingBatch:
    """Stack numpy layers (N, H, W[, C]) into a MattingBatch of tensors (with colour guidance)."""
    def chw(array) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(np.stack(array), dtype=np.float32)).permute(0, 3, 1, 2)

    classes = np.stack([trimap_classes(t) for t in trimaps])
    return MattingBatch(
        image=chw(images), trimap=torch.nn.functional.one_hot(torch.from_numpy(classes), 3).permute(0, 3, 1, 2).float(),
        unknown=torch.from_numpy((np.stack(trimaps) == UNKNOWN)[:, None].astype(np.float32)),
        alpha=torch.from_numpy(np.stack(alphas)[:, None].astype(np.float32)), foreground=chw(foregrounds),
        background=chw(backgrounds), true_trimap=torch.from_numpy(np.stack([true_trimap_classes(a) for a in alphas])),
        guidance=chw([colour_guidance(i, t) for i, t in zip(images, trimaps)]),
    )


def sample_batch(samples: list[MattingSample], rng: np.random.Generator, recipe: BatchRecipe) -> MattingBatch:
    """A random training batch: re-composited, randomly mirrored, cropped around the band."""
    layers = {key: [] for key in ("images", "trimaps", "alphas", "foregrounds", "backgrounds")}
    for _ in range(recipe.batch):
        sample = samples[rng.integers(len(samples))]
        height, width = sample.alpha.shape
        if rng.uniform() < recipe.texture_share:
            background = random_texture(rng, height, width)
        else:
            background = samples[rng.integers(len(samples))].background
        trimap = _input_trimap(sample, rng, recipe)
        alpha, foreground = sample.alpha, sample.foreground
        if rng.uniform() < 0.5:
            alpha, foreground, trimap = alpha[:, ::-1], foreground[:, ::-1], trimap[:, ::-1]
        y, x = _crop_origin(trimap == UNKNOWN, recipe.crop, rng)
        window = (slice(y, y + recipe.crop), slice(x, x + recipe.crop))
        a, f, b = alpha[window], foreground[window], background[window]
        layers["images"].append(composite(f * a[..., None], a, b))
        layers["trimaps"].append(trimap[window])
        layers["alphas"].append(a)
        layers["foregrounds"].append(f)
        layers["backgrounds"].append(b)
    return to_batch(**layers)
