"""EG3D's dataset layout: images under a root, ``dataset.json`` labelling each by its path.

``{"labels": [["images/img00000000.png", [25 floats]], ...]}``: names relative to the root
with forward slashes, as EG3D's ``ImageFolderDataset`` looks them up; it takes every file
with an image extension under the root as an image, so nothing else in the folder may have
one (label maps are ``.npy``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.io.atomic import atomic_file

DATASET_JSON = "dataset.json"


def write_dataset_json(path: Path, labels: list[tuple[str, np.ndarray]]) -> None:
    entries = [[name, [float(v) for v in np.asarray(label, np.float64).reshape(25)]] for name, label in labels]
    with atomic_file(path, "w") as handle:
        json.dump({"labels": entries}, handle)


def read_dataset_json(path: Path) -> dict[str, np.ndarray]:
    with open(path) as handle:
        return {name: np.asarray(label, np.float64) for name, label in json.load(handle)["labels"]}
