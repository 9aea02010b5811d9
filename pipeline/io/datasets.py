"""The raw dataset contracts every stage reads: ``lightstage/`` and ``hdri/``.

lightstage/
    manifest.parquet   one row per (subject, view): subject, view, split, height,
                       width, lights, camera (25 floats, EG3D layout) and the
                       relative paths of its arrays:
    lights.parquet     one row per light: light, x, y, z (unit direction towards
                       the light, world space, y up), solid_angle (sum 4 pi)
                       Also landmarks_2d (2N pixel coordinates), landmarks_visible
                       (N bools) and landmarks_3d (3N, world), N = len(LANDMARKS).
    <subject>/<view>/olat.npy       (L, H, W, 3) float16 linear radiance, premultiplied
                     alpha.npy      (H, W)
                     foreground.npy (H, W, 3) colour under a uniform environment of radiance 1
                     normals.npy    (H, W, 3) unit, camera space (OpenCV axes)
                     albedo.npy     (H, W, 3) linear
                     depth.npy      (H, W) camera z
                     uv.npy         (H, W, 2) fixed surface parametrisation
                     specular.npy   (H, W, 2) Blinn-Phong strength, exponent
                     labels.npy     (H, W) uint8 semantic labels (LABELS)
hdri/
    manifest.parquet   one row per map: hdri, split, kind, height, width, path
    <hdri>.npy         (H, 2H, 3) float16 linear radiance, equirectangular
faces/
    manifest.parquet   one row per image: image, path, labels, split, height, width,
                       hdri, hdri_rotation, exposure, background (map, blurred_map or
                       clutter), landmarks_2d, landmarks_visible
    images/<image>.png sRGB photograph; labels/<image>.png uint8 label map
faces_truth/
    cameras.parquet    image, camera (25 floats, EG3D layout), yaw, pitch: the true
                       poses, for evaluation only (the pose stage never reads them)

Landmarks: LANDMARKS below. Labels: LABELS below.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import DataError
from pipeline.io.manifest import MANIFEST, read_manifest, read_table, write_table

LABELS = ("background", "skin", "hair", "eyes", "brows", "lips", "neck", "shoulders")
# The 68 iBUG points in their order (dlib's convention: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47,
# mouth 48-67; the subject's right first in each mirror pair), as real detectors give them.
LANDMARKS = tuple([f"jaw_{i:02d}" for i in range(17)] + [f"brow_{i:02d}" for i in range(17, 27)]
                  + [f"nose_{i:02d}" for i in range(27, 36)] + [f"eye_{i:02d}" for i in range(36, 48)]
                  + [f"mouth_{i:02d}" for i in range(48, 68)])

LIGHTSTAGE_COLUMNS = ("subject", "view", "split", "height", "width", "lights", "camera",
                      "landmarks_2d", "landmarks_visible", "landmarks_3d")


def _image(channels: int | None):
    def shape(row) -> tuple[int, ...]:
        return (int(row.height), int(row.width)) + ((channels,) if channels else ())
    return shape


LIGHTSTAGE_FILES = {
    "olat": lambda r: (int(r.lights), int(r.height), int(r.width), 3),
    "alpha": _image(None), "foreground": _image(3), "normals": _image(3), "albedo": _image(3),
    "depth": _image(None), "uv": _image(2), "specular": _image(2), "labels": _image(None),
}
LIGHTS_TABLE = "lights.parquet"
LIGHT_COLUMNS = ("light", "x", "y", "z", "solid_angle")

HDRI_COLUMNS = ("hdri", "split", "kind", "height", "width")
HDRI_FILES = {"path": _image(3)}
FACE_COLUMNS = ("image", "path", "labels", "split", "height", "width", "landmarks_2d", "landmarks_visible")
FACE_CAMERAS = "cameras.parquet"

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


def read_faces(directory: str | Path) -> pd.DataFrame:
    """The face set manifest, checked against its image and label files."""
    directory = Path(directory)
    manifest = read_table(directory / MANIFEST, FACE_COLUMNS)
    for _, row in manifest.iterrows():
        for column in ("path", "labels"):
            if not (directory / row[column]).is_file():
                raise DataError(f"{directory / row[column]}: file not found (listed in {directory / MANIFEST})")
    _check_splits(directory / MANIFEST, manifest)
    return manifest


def import_raw(source: Path, outputs: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Validate a real dataset folder (``lightstage/``, ``hdri/``, ``faces/``) and copy it in.

    A real dataset has no true face cameras unless it brings ``faces_truth/``;
    otherwise that output holds an empty table.
    """
    import shutil

    if not source.is_dir():
        raise DataError(f"{source}: base.source is neither 'synthetic' nor a folder")
    manifest, lights = read_lightstage(source / "lightstage")
    check_finite(source / "lightstage", manifest, ("olat",), non_negative=True)
    check_finite(source / "lightstage", manifest, tuple(c for c in LIGHTSTAGE_FILES if c != "olat"), non_negative=False)
    hdris = read_hdri(source / "hdri")
    check_finite(source / "hdri", hdris, ("path",), non_negative=False)  # negatives: judged by lightmaps (max_negative_share)
    faces = read_faces(source / "faces")
    for name in ("lightstage", "hdri", "faces"):
        shutil.copytree(source / name, outputs[name], dirs_exist_ok=True)
    if (source / "faces_truth" / FACE_CAMERAS).is_file():
        shutil.copytree(source / "faces_truth", outputs["faces_truth"], dirs_exist_ok=True)
    else:
        write_table(outputs["faces_truth"] / FACE_CAMERAS, pd.DataFrame({"image": [], "camera": [], "yaw": [], "pitch": []}))
    return {"lightstage": manifest, "lights": lights, "hdri": hdris, "faces": faces}
