"""Matting samples from the relit light-stage data, and training batches.

Layers are kept in display space (sRGB in [0, 1], each side exposed as its relit
composite was) and composited there, as matting datasets are:
C = alpha F + (1 - alpha) B. Training re-composites each foreground over varied
backgrounds (other views' maps, mirrored, and procedural textures) and gives the
network either a trimap generated from the true alpha or a coarse trimap from a
simulated segmentation, its input at inference.

The evaluation composites the test foregrounds over their own maps (smooth skies, closed-form
matting's best case) and, as Composition-1k puts its foregrounds over natural photographs, over
held-out indoor clutter (``indoor_backdrop``; training draws its own from other seeds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from pipeline.io.arrays import load_array, load_png, read_window, srgb_curve
from pipeline.io.manifest import MANIFEST, read_table
from pipeline.light.tonemap import composite, unpremultiply
from pipeline.matting.guidance import colour_guidance
from pipeline.matting.trimap import (band_width, coarse_segmentation, coarse_trimap, trimap_classes, trimap_from_alpha,
                                     true_trimap_classes, UNKNOWN)
from pipeline.models.matting import MattingBatch
from pipeline.synth.backdrop import clutter
from pipeline.training import CropPhase, CropPlan, KeyedDataset, SampleKey


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


@dataclass(frozen=True)
class MattingRef:
    """One relit side of one pair, without its pixels."""

    name: str
    alpha: Path
    relit: Path
    background: Path
    trimap: Path
    coarse_trimap: Path
    exposure: float


def matting_refs(relight: Path, lightstage: Path, trimaps: Path, split: str) -> list[MattingRef]:
    """One per relit side (a and b) of every pair in ``split``."""
    pairs = read_table(relight / MANIFEST)
    views = read_table(lightstage / MANIFEST).set_index(["subject", "view"])
    maps = read_table(trimaps / MANIFEST).set_index(["subject", "view"])
    refs = []
    for row in pairs[pairs["split"] == split].itertuples():
        key = (row.subject, row.view)
        for side in "ab":
            refs.append(MattingRef(
                name=f"{row.subject}_v{row.view:02d}_p{row.pair:02d}_{side}", alpha=lightstage / views.loc[key, "alpha"],
                relit=relight / getattr(row, f"relit_{side}"), background=relight / getattr(row, f"background_{side}"),
                trimap=trimaps / maps.loc[key, "trimap"], coarse_trimap=trimaps / maps.loc[key, "coarse_trimap"],
                exposure=float(getattr(row, f"exposure_{side}"))))
    return refs


def load_background(ref: MattingRef) -> np.ndarray:
    """The sample's background (H, W, 3) in display space."""
    return srgb_curve(np.asarray(load_array(ref.background), dtype=np.float32) * ref.exposure)


def display_foreground(relit: np.ndarray, alpha: np.ndarray, exposure: float) -> np.ndarray:
    """The straight foreground colour (H, W, 3) of a premultiplied linear layer, exposed, in display space."""
    return srgb_curve(unpremultiply(relit, alpha) * exposure)


def load_sample(ref: MattingRef) -> MattingSample:
    """A sample's layers in display space, read on demand."""
    alpha = np.asarray(load_array(ref.alpha), dtype=np.float32)
    relit = np.asarray(load_array(ref.relit), dtype=np.float32)
    return MattingSample(
        name=ref.name, foreground=display_foreground(relit, alpha, ref.exposure), alpha=alpha, background=load_background(ref),
        trimap=load_png(ref.trimap)[..., 0], coarse_trimap=load_png(ref.coarse_trimap)[..., 0])


def load_samples(relight: Path, lightstage: Path, trimaps: Path, split: str) -> list[MattingSample]:
    """Every sample of ``split`` in memory (for evaluation, which is small)."""
    return [load_sample(ref) for ref in matting_refs(relight, lightstage, trimaps, split)]


def random_texture(rng: np.random.Generator, height: int, width: int, frame: int | None = None) -> np.ndarray:
    """A procedural background (H, W, 3) in [0, 1]: blurred colour noise at a few scales, up to a
    quarter of ``frame`` (default ``height``: a crop of a frame's texture has the frame's scales)."""
    texture = np.zeros((height, width, 3), dtype=np.float32)
    for sigma in rng.uniform(1.0, (frame or height) / 4, size=3):
        # OpenCV's blur: the same sampled Gaussian to 4 sigma with reflected borders as
        # scipy.ndimage.gaussian_filter, several times faster at these widths
        layer = cv2.GaussianBlur(rng.normal(size=(height, width)).astype(np.float32), (0, 0), sigma,
                                 borderType=cv2.BORDER_REFLECT)
        layer = (layer - layer.min()) / max(np.ptp(layer), 1e-9)
        texture += layer[..., None] * rng.uniform(0, 1, 3)
    return np.clip(texture / 3 * rng.uniform(0.5, 1.5) + rng.uniform(0, 0.3, 3), 0, 1).astype(np.float32)


def indoor_backdrop(rng: np.random.Generator, height: int, width: int, frame: int) -> np.ndarray:
    """A window (height, width, 3) of an indoor clutter drawn at ``frame`` px (``synth``'s backdrops
    of the face set: shelves, frames, windows, lamps, out of focus), in display space."""
    room = srgb_curve(clutter(rng, frame, brightness=float(rng.uniform(0.03, 0.3))))
    y, x = rng.integers(frame - height + 1), rng.integers(frame - width + 1)
    return np.clip(room[y:y + height, x:x + width], 0.0, 1.0).astype(np.float32)


Window = tuple[slice, slice]


class InMemory:
    """Matting samples held in memory, as ``training_example`` reads them (tests, small sets)."""

    def __init__(self, samples: list[MattingSample]):
        self.samples = samples

    def __len__(self) -> int:
        return len(self.samples)

    def alpha(self, k: int) -> np.ndarray:
        return self.samples[k].alpha

    def trimap(self, k: int, coarse: bool) -> np.ndarray:
        return self.samples[k].coarse_trimap if coarse else self.samples[k].trimap

    def foreground(self, k: int, window: Window) -> np.ndarray:
        return self.samples[k].foreground[window]

    def background(self, k: int, window: Window) -> np.ndarray:
        return self.samples[k].background[window]


class OnDisk:
    """Matting samples read on demand: whole alpha and trimaps (to place the crop), and only the
    crop's rows of the foreground and background, brought to display space there."""

    def __init__(self, refs: list[MattingRef]):
        self.refs = refs

    def __len__(self) -> int:
        return len(self.refs)

    def alpha(self, k: int) -> np.ndarray:
        return read_window(self.refs[k].alpha, slice(None), slice(None))

    def trimap(self, k: int, coarse: bool) -> np.ndarray:
        return load_png(self.refs[k].coarse_trimap if coarse else self.refs[k].trimap)[..., 0]

    def foreground(self, k: int, window: Window) -> np.ndarray:
        ref = self.refs[k]
        return display_foreground(read_window(ref.relit, *window), read_window(ref.alpha, *window), ref.exposure)

    def background(self, k: int, window: Window) -> np.ndarray:
        ref = self.refs[k]
        return srgb_curve(read_window(ref.background, *window) * ref.exposure)


@dataclass(frozen=True)
class BatchRecipe:
    batch: int
    crop: int  # square crop side; the network is fully convolutional
    band_fraction: tuple[float, float]
    coarse_share: float  # share of samples given a coarse trimap
    texture_share: float  # share of samples over a procedural texture
    clutter_share: float = 0.0  # share of samples over an indoor clutter (``indoor_backdrop``); the rest over other maps
    thin_fraction: float = 0.02
    jitter_fraction: float = 0.02
    coarse_band_fraction: float = 0.04
    early_crops: tuple[CropPhase, ...] = ()  # progressive resizing: smaller crops first (CropPlan)

    @property
    def crops(self) -> CropPlan:
        return CropPlan(self.crop, self.early_crops)


def _input_trimap(source: InMemory | OnDisk, k: int, alpha: np.ndarray, rng: np.random.Generator,
                  recipe: BatchRecipe) -> np.ndarray:
    size = max(alpha.shape)
    choice = rng.uniform()
    if choice < recipe.coarse_share / 2:
        return source.trimap(k, coarse=True)
    if choice < recipe.coarse_share:
        segmentation = coarse_segmentation(alpha, rng, round(recipe.thin_fraction * size), round(recipe.jitter_fraction * size))
        return coarse_trimap(segmentation, max(1, round(recipe.coarse_band_fraction * size)))
    if choice < (1 + recipe.coarse_share) / 2:
        return source.trimap(k, coarse=False)
    return trimap_from_alpha(alpha, band_width(rng, size, recipe.band_fraction))


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
        mix=torch.full((len(images),), 0.5),
    )


def training_example(source: InMemory | OnDisk, rng: np.random.Generator, recipe: BatchRecipe, crop: int
                     ) -> dict[str, np.ndarray]:
    """One training crop: a random sample re-composited over another's background, a texture or a clutter,
    randomly mirrored, cropped around the band of its input trimap. Only the crop of the colour
    layers is read (``source``: ``InMemory`` or ``OnDisk``)."""
    k = int(rng.integers(len(source)))
    alpha = source.alpha(k)
    height, width = alpha.shape
    draw = rng.uniform()
    texture = draw < recipe.texture_share
    indoor = not texture and draw < recipe.texture_share + recipe.clutter_share
    other = None if texture or indoor else int(rng.integers(len(source)))
    background = (random_texture(rng, crop, crop, frame=height) if texture
                  else indoor_backdrop(rng, crop, crop, frame=height) if indoor else None)
    trimap = _input_trimap(source, k, alpha, rng, recipe)
    flip = rng.uniform() < 0.5
    if flip:
        alpha, trimap = alpha[:, ::-1], trimap[:, ::-1]
    y, x = _crop_origin(trimap == UNKNOWN, crop, rng)
    rows, columns = slice(y, y + crop), slice(x, x + crop)
    if flip:  # the same columns of the unmirrored foreground, mirrored
        f = source.foreground(k, (rows, slice(width - x - crop, width - x)))[:, ::-1]
    else:
        f = source.foreground(k, (rows, columns))
    b = source.background(other, (rows, columns)) if background is None else background
    a = np.ascontiguousarray(alpha[rows, columns])
    return {"images": composite(f * a[..., None], a, b), "trimaps": np.ascontiguousarray(trimap[rows, columns]), "alphas": a,
            "foregrounds": np.ascontiguousarray(f), "backgrounds": b}


def sample_batch(samples: list[MattingSample], rng: np.random.Generator, recipe: BatchRecipe) -> MattingBatch:
    """A random training batch from samples in memory (all from one generator)."""
    examples = [training_example(InMemory(samples), rng, recipe, recipe.crop) for _ in range(recipe.batch)]
    return to_batch(**{key: [e[key] for e in examples] for key in examples[0]})


class MattingCrops(KeyedDataset):
    """Training items read on demand: item ``i`` is ``training_example`` drawn from the generator
    of (seed, i), with the critic's interpolation ``mix``."""

    purpose = "matting-crops"

    def __init__(self, refs: list[MattingRef], recipe: BatchRecipe, seed: int):
        super().__init__(seed)
        self.source, self.recipe, self.crops = OnDisk(refs), recipe, recipe.crops

    def item(self, rng: np.random.Generator, key: SampleKey) -> tuple[dict[str, np.ndarray], float]:
        return training_example(self.source, rng, self.recipe, self.crops.at_step(key.step)), float(rng.uniform())

    def collate(self, items: list) -> MattingBatch:
        batch = to_batch(**{key: [e[key] for e, _ in items] for key in items[0][0]})
        return batch._replace(mix=torch.tensor([m for _, m in items], dtype=torch.float32))
