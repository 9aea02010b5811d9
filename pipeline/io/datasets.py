"""The raw dataset contracts every stage reads: ``lightstage/`` and ``hdri/``.

lightstage/
    manifest.parquet   one row per (subject, view): subject, view, split, height,
                       width, lights, camera (25 floats, EG3D layout) and the
                       relative paths of its arrays:
    lights.parquet     one row per light: light, x, y, z (unit direction towards
                       the light, world space, y up), solid_angle (sum 4 pi)
    <subject>/<view>/olat.npy     (L, H, W, 3) float16 linear radiance
                     normals.npy  (H, W, 3) unit, camera space (OpenCV axes)
                     albedo.npy   (H, W, 3) linear
                     alpha.npy    (H, W)
                     depth.npy    (H, W) camera z
                     specular.npy (H, W, 2) Blinn-Phong strength, exponent
hdri/
    manifest.parquet   one row per map: hdri, split, kind, height, width, path
    <hdri>.npy         (H, 2H, 3) float16 linear radiance, equirectangular
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import DataError
from pipeline.io.manifest import MANIFEST, read_manifest, read_table

LIGHTSTAGE_COLUMNS = ("subject", "view", "split", "height", "width", "lights", "camera")
LIGHTSTAGE_FILES = {
    "olat": lambda r: (int(r.lights), int(r.height), int(r.width), 3),
    "normals": lambda r: (int(r.height), int(r.width), 3),
    "albedo": lambda r: (int(r.height), int(r.width), 3),
    "alpha": lambda r: (int(r.height), int(r.width)),
    "depth": lambda r: (int(r.height), int(r.width)),
    "specular": lambda r: (int(r.height), int(r.width), 2),
}
LIGHTS_TABLE = "lights.parquet"
LIGHT_COLUMNS = ("light", "x", "y", "z", "solid_angle")

HDRI_COLUMNS = ("hdri", "split", "kind", "height", "width")
HDRI_FILES = {"path": lambda r: (int(r.height), int(r.width), 3)}

SPLITS = ("train", "test")


def read_lightstage(directory: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The lightstage manifest and lights table, checked against each other and the files."""
    directory = Path(directory)
    manifest = read_manifest(directory, LIGHTSTAGE_COLUMNS, LIGHTSTAGE_FILES)
    lights = read_table(directory / LIGHTS_TABLE, LIGHT_COLUMNS)
    _check_splits(directory / MANIFEST, manifest)
    if (manifest["lights"] != len(lights)).any():
        raise DataError(f"{directory / MANIFEST}: 'lights' disagrees with the {len(lights)} rows of {directory / LIGHTS_TABLE}")
    directions = lights[["x", "y", "z"]].to_numpy()
    if not np.allclose(np.linalg.norm(directions, axis=1), 1.0, atol=1e-6):
        raise DataError(f"{directory / LIGHTS_TABLE}: light directions must be unit vectors")
    if not np.isclose(lights["solid_angle"].sum(), 4 * np.pi, rtol=1e-4):
        raise DataError(f"{directory / LIGHTS_TABLE}: solid angles sum to {lights['solid_angle'].sum():.6f}, not 4 pi")
    if any(len(c) != 25 for c in manifest["camera"]):
        raise DataError(f"{directory / MANIFEST}: every camera must have 25 floats (EG3D layout)")
    return manifest, lights


def read_hdri(directory: str | Path) -> pd.DataFrame:
    """The HDR map manifest, checked against the files (2:1 equirect maps)."""
    directory = Path(directory)
    manifest = read_manifest(directory, HDRI_COLUMNS, HDRI_FILES)
    _check_splits(directory / MANIFEST, manifest)
    if (manifest["width"] != 2 * manifest["height"]).any():
        raise DataError(f"{directory / MANIFEST}: equirectangular maps must be twice as wide as high")
    return manifest


def _check_splits(path: Path, manifest: pd.DataFrame) -> None:
    unknown = set(manifest["split"]) - set(SPLITS)
    if unknown:
        raise DataError(f"{path}: unknown split values {sorted(unknown)} (expected {SPLITS})")
    for split in SPLITS:
        if not (manifest["split"] == split).any():
            raise DataError(f"{path}: no rows in the {split!r} split")


def check_finite(directory: Path, manifest: pd.DataFrame, columns: tuple[str, ...], non_negative: bool) -> None:
    """Read every array the manifest names; fail on NaN, infinity or (radiance) negatives."""
    for _, row in manifest.iterrows():
        for column in columns:
            path = Path(directory) / row[column]
            array = np.asarray(np.load(path, mmap_mode="r"))
            if not np.isfinite(array).all():
                raise DataError(f"{path}: contains NaN or infinite values")
            if non_negative and (array < 0).any():
                raise DataError(f"{path}: contains negative radiance")


def import_raw(source: Path, lightstage_out: Path, hdri_out: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Validate a real dataset folder (``source/lightstage``, ``source/hdri``) and copy it in."""
    import shutil

    if not source.is_dir():
        raise DataError(f"{source}: base.source is neither 'synthetic' nor a folder")
    manifest, lights = read_lightstage(source / "lightstage")
    check_finite(source / "lightstage", manifest, ("olat",), non_negative=True)
    check_finite(source / "lightstage", manifest, ("normals", "albedo", "alpha", "depth", "specular"), non_negative=False)
    hdris = read_hdri(source / "hdri")
    check_finite(source / "hdri", hdris, ("path",), non_negative=True)
    shutil.copytree(source / "lightstage", lightstage_out, dirs_exist_ok=True)
    shutil.copytree(source / "hdri", hdri_out, dirs_exist_ok=True)
    return manifest, lights, hdris
