"""Face sets with label maps, for FENeRF's semantic discriminator.

The poses stage crops each face photo's label map with it (``labels/<name>.npy`` beside
``images/<name>.png``, classes ``pipeline.io.datasets.LABELS``). ``SegmentedFaceSet`` reads
them with the images (nearest neighbours when it resizes: labels do not blend), and
``SegmentedSamples`` gives each training sample its real image's map beside what
``GanSamples`` gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from pipeline import DataError
from pipeline.gan3d.data import FaceSet, GanSamples, to_signed
from pipeline.io.arrays import load_array
from pipeline.io.resize import resize_picture
from pipeline.training import SampleKey


class SegmentedFaceSet(FaceSet):
    """A ``FaceSet`` whose every image has its label map."""

    def __init__(self, root: Path, resolution: int, preload: bool = True):
        self.segments = None
        super().__init__(root, resolution, preload)
        for k in range(len(self)):
            if not self.segment_path(k).is_file():
                raise DataError(f"{self.segment_path(k)}: not found; the semantic discriminator needs each image's "
                                f"label map (the poses stage crops them from a face set with labels)")
        if preload:
            self.segments = np.stack([self.segment(k) for k in range(len(self))])

    def segment_path(self, k: int) -> Path:
        """``labels/<name>.npy`` beside ``images/<name>.png`` (the poses stage's layout)."""
        return self.root / "labels" / f"{Path(self.names[k]).stem}.npy"

    def segment(self, k: int) -> np.ndarray:
        """Image ``k``'s label map (resolution, resolution) uint8."""
        if self.segments is not None:
            return self.segments[k]
        labels = np.asarray(load_array(self.segment_path(k)))
        if labels.ndim != 2 or labels.shape[0] != labels.shape[1]:
            raise DataError(f"{self.segment_path(k)}: shape {labels.shape} is not a square label map")
        return resize_picture(labels, self.resolution, self.resolution, nearest=True)


class SegmentedBatch(NamedTuple):
    """``GanBatch``'s fields, then the reals' label maps."""

    real: torch.Tensor
    real_cameras: torch.Tensor
    z: torch.Tensor
    cameras: torch.Tensor
    swap_cameras: torch.Tensor
    swap_draws: torch.Tensor
    real_labels: torch.Tensor  # (B, R, R) uint8


class SegmentedSamples(GanSamples):
    """``GanSamples`` of a ``SegmentedFaceSet``, each with its real image's label map (the same draws)."""

    def __init__(self, faces: SegmentedFaceSet, z_dim: int, seed: int):
        super().__init__(faces, z_dim, seed)

    def item(self, rng: np.random.Generator, key: SampleKey) -> tuple:
        ahead = np.random.Generator(type(rng.bit_generator)())
        ahead.bit_generator.state = rng.bit_generator.state  # GanSamples' first draw is the real image: read it ahead
        real = int(ahead.integers(len(self.faces), size=3)[0])
        return (*super().item(rng, key), self.faces.segment(real))

    def collate(self, items: list) -> SegmentedBatch:
        columns = [np.stack(column) for column in zip(*items)]
        return SegmentedBatch(to_signed(columns[0]), *(torch.from_numpy(c) for c in columns[1:]))
