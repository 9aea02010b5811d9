"""Bad input stops a reader with an error naming the file."""

import shutil

import numpy as np
import pandas as pd
import pytest

from pipeline import DataError
from pipeline.io.arrays import load_array, save_array
from pipeline.io.datasets import import_raw, read_faces, read_hdri, read_lightstage
from pipeline.io.manifest import MANIFEST, read_table, write_table


@pytest.fixture
def dataset(small_dataset):
    return small_dataset


@pytest.fixture
def copy(dataset, tmp_path):
    shutil.copytree(dataset, tmp_path / "raw")
    return tmp_path / "raw"


def test_written_dataset_reads_back(dataset):
    manifest, lights = read_lightstage(dataset / "lightstage")
    assert len(manifest) == 6 and len(lights) == 8
    assert len(read_faces(dataset / "faces")) == 12
    assert set(manifest["split"]) == {"train", "test"}
    assert len(read_hdri(dataset / "hdri")) == 3


def test_missing_file_is_named(copy):
    victim = copy / "lightstage" / "s0001" / "v00" / "albedo.npy"
    victim.unlink()
    with pytest.raises(DataError, match=str(victim)):
        read_lightstage(copy / "lightstage")


def test_corrupt_array_is_named(copy):
    victim = copy / "lightstage" / "s0000" / "v00" / "olat.npy"
    victim.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match=f"{victim}: not a readable"):
        read_lightstage(copy / "lightstage")


def test_corrupt_manifest_is_named(copy):
    victim = copy / "hdri" / MANIFEST
    victim.write_bytes(b"PAR1 not really")
    with pytest.raises(DataError, match=f"{victim}: not a readable Parquet"):
        read_hdri(copy / "hdri")


def test_manifest_disagreeing_with_files_is_named(copy):
    path = copy / "lightstage" / MANIFEST
    manifest = read_table(path)
    manifest.loc[0, "height"] = 17
    write_table(path, manifest)
    with pytest.raises(DataError, match="disagrees with the expected"):
        read_lightstage(copy / "lightstage")


def test_lights_table_must_sum_to_four_pi(copy):
    path = copy / "lightstage" / "lights.parquet"
    lights = read_table(path)
    lights["solid_angle"] *= 0.5
    write_table(path, lights)
    with pytest.raises(DataError, match="4 pi"):
        read_lightstage(copy / "lightstage")


def test_import_rejects_nan_in_hdr_map(copy, tmp_path):
    victim = copy / "hdri" / "h0001.npy"
    env = np.array(load_array(victim), dtype=np.float32)
    env[0, 0, 0] = np.nan
    np.save(victim, env.astype(np.float16))
    with pytest.raises(DataError, match=f"{victim}: contains NaN"):
        import_raw(copy, _outputs(tmp_path))


def _outputs(root):
    return {name: root / name for name in ("lightstage", "hdri", "faces", "faces_truth")}


def test_import_copies_a_valid_dataset(dataset, tmp_path):
    import_raw(dataset, _outputs(tmp_path))
    for name in ("lightstage", "faces"):
        assert (tmp_path / name / MANIFEST).read_bytes() == (dataset / name / MANIFEST).read_bytes()


def test_missing_face_image_is_named(copy):
    victim = copy / "faces" / "images" / "img00000003.png"
    victim.unlink()
    with pytest.raises(DataError, match=str(victim)):
        read_faces(copy / "faces")


def test_save_array_refuses_overflow_and_nan(tmp_path):
    with pytest.raises(DataError, match="float16 range"):
        save_array(tmp_path / "a.npy", np.array([1e6]))
    with pytest.raises(DataError, match="non-finite"):
        save_array(tmp_path / "b.npy", np.array([np.inf]))
    assert not list(tmp_path.iterdir())
