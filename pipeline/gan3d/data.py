"""Face images with their cameras, as the 3D-aware GANs train on them.

A dataset is EG3D's layout (``pipeline.poses.dataset``): images under a folder and
``dataset.json`` giving each its camera, mirrored copies already among them. Images are
read at the training resolution, either all at once into memory (the default face set:
2,000 crops of 64 px, 24 MB) or one by one as samples ask for them (``preload`` off: FFHQ
at 512 px is 110 GB of pixels).

Each training sample draws everything random from its own keyed generator
(``pipeline.training.KeyedDataset``): which real image, the latent z, the camera a fake is
rendered from and the camera that may replace it as the generator's conditioning. Fake
cameras come from the dataset's own, as EG3D samples them.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from tqdm import tqdm

from pipeline import DataError
from pipeline.io.arrays import load_png
from pipeline.io.resize import resize_picture
from pipeline.poses.dataset import DATASET_JSON, read_dataset_json
from pipeline.training import KeyedDataset, SampleKey


class FaceSet:
    """The images of a dataset folder and their cameras (N, 25), read at ``resolution`` pixels."""

    def __init__(self, root: Path, resolution: int, preload: bool = True):
        self.root, self.resolution = Path(root), resolution
        labels = read_dataset_json(self.root / DATASET_JSON)
        self.names = tuple(labels)
        self.cameras = np.stack(list(labels.values())).astype(np.float32)
        for k, name in enumerate(self.names):  # every file is there before any training starts
            if not (self.root / name).is_file():
                raise DataError(f"{self.root / DATASET_JSON}: labels[{k}] ({name}): {self.root / name} not found")
        self.images = None
        if preload:
            self.images = np.stack([self.picture(k) for k in tqdm(range(len(self)), desc="read faces", unit="image",
                                                                   leave=False)])

    @classmethod
    def native(cls, root: Path, preload: bool = True) -> FaceSet:
        """The dataset at the size of its first image (evaluation scores at the dataset's resolution)."""
        names = read_dataset_json(Path(root) / DATASET_JSON)
        first = Path(root) / next(iter(names))
        if not first.is_file():
            raise DataError(f"{Path(root) / DATASET_JSON}: labels[0]: {first} not found")
        return cls(root, load_png(first).shape[0], preload)

    def __len__(self) -> int:
        return len(self.names)

    def picture(self, k: int) -> np.ndarray:
        """Image ``k`` as (resolution, resolution, 3) uint8."""
        if self.images is not None:
            return self.images[k]
        path = self.root / self.names[k]
        picture = load_png(path)
        if picture.shape[0] != picture.shape[1]:
            raise DataError(f"{path}: {picture.shape[1]}x{picture.shape[0]} pixels is not square (the GANs train on "
                            f"square aligned crops; the poses stage writes them)")
        if picture.shape[0] < self.resolution:
            raise DataError(f"{path}: {picture.shape[0]} pixels, smaller than the {self.resolution} the model generates: "
                            f"upsampled reals would teach it blur (set poses.resolution to at least {self.resolution})")
        return resize_picture(picture, self.resolution, self.resolution)


def to_signed(pictures: np.ndarray) -> torch.Tensor:
    """uint8 pictures (..., H, W, 3) as float tensors (..., 3, H, W) in [-1, 1], the GANs' range."""
    x = torch.from_numpy(np.ascontiguousarray(pictures)).float().div(127.5).sub(1.0)
    return x.movedim(-1, -3)


def from_signed(images: torch.Tensor) -> np.ndarray:
    """Images (N, 3, H, W) in about [-1, 1] as uint8 pictures (N, H, W, 3)."""
    x = (images.detach().float().cpu() + 1.0) * 127.5
    return x.clamp(0, 255).round().to(torch.uint8).movedim(1, -1).numpy()


class GanBatch(NamedTuple):
    real: torch.Tensor  # (B, 3, R, R) in [-1, 1]
    real_cameras: torch.Tensor  # (B, 25)
    z: torch.Tensor  # (B, z_dim)
    cameras: torch.Tensor  # (B, 25): the cameras fakes are rendered from
    swap_cameras: torch.Tensor  # (B, 25): other dataset cameras, the conditioning when swapped
    swap_draws: torch.Tensor  # (B,) uniform in [0, 1): a sample swaps when its draw is below the probability


class GanSamples(KeyedDataset):
    purpose = "gan-samples"

    def __init__(self, faces: FaceSet, z_dim: int, seed: int):
        super().__init__(seed)
        self.faces, self.z_dim = faces, z_dim

    def item(self, rng: np.random.Generator, key: SampleKey) -> tuple:
        real, rendered, swapped = rng.integers(len(self.faces), size=3)
        cameras = self.faces.cameras
        return (self.faces.picture(real), cameras[real], rng.standard_normal(self.z_dim, dtype=np.float32),
                cameras[rendered], cameras[swapped], np.float32(rng.random()))

    def collate(self, items: list) -> GanBatch:
        columns = [np.stack(column) for column in zip(*items)]
        return GanBatch(to_signed(columns[0]), *(torch.from_numpy(c) for c in columns[1:]))
