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

from pipeline import DataError
from pipeline.camera.eg3d import CAMERA_FLOATS
from pipeline.io.atomic import atomic_file

DATASET_JSON = "dataset.json"


def write_dataset_json(path: Path, labels: list[tuple[str, np.ndarray]]) -> None:
    entries = [[name, [float(v) for v in np.asarray(label, np.float64).reshape(CAMERA_FLOATS)]] for name, label in labels]
    with atomic_file(path, "w") as handle:
        json.dump({"labels": entries}, handle)


def read_dataset_json(path: Path) -> dict[str, np.ndarray]:
    """Image path (relative to the folder) -> its camera (25 floats). A malformed file or entry
    (not ``[name, 25 finite numbers]``, a name twice) is a ``DataError`` naming the entry."""
    if not path.is_file():
        raise DataError(f"{path}: not found (the poses stage writes an EG3D dataset.json)")
    try:
        with open(path) as handle:
            entries = json.load(handle)["labels"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
        raise DataError(f"{path}: not an EG3D dataset.json ({{'labels': [[name, [25 floats]], ...]}}): {err}") from err
    if not isinstance(entries, list) or not entries:
        raise DataError(f"{path}: labels is empty or not a list")
    labels = {}
    for k, entry in enumerate(entries):
        where = f"{path}: labels[{k}]"
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str) and isinstance(entry[1], list)):
            raise DataError(f"{where}: not [image name, [25 numbers]] (got {str(entry)[:80]})")
        name, label = entry
        if len(label) != CAMERA_FLOATS:
            raise DataError(f"{where} ({name}): the camera has {len(label)} numbers, not {CAMERA_FLOATS}")
        try:
            label = np.asarray(label, np.float64)
        except (TypeError, ValueError) as err:
            raise DataError(f"{where} ({name}): the camera is not numbers ({err})") from err
        if not np.all(np.isfinite(label)):
            raise DataError(f"{where} ({name}): the camera has non-finite numbers")
        if name in labels:
            raise DataError(f"{where} ({name}): the image is labelled twice")
        labels[name] = label
    return labels
