"""The poses stage on a small synthetic face set: EG3D's layout, cameras that reproject, bad input."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import PIL.Image
import pytest

from pipeline import DataError
from pipeline.camera.eg3d import INTRINSICS, split_label
from pipeline.io.arrays import load_array, load_png
from pipeline.io.manifest import MANIFEST, read_table, write_table
from pipeline.poses.dataset import DATASET_JSON, read_dataset_json
from pipeline.poses.detect import dlib_landmarks
from pipeline.poses.estimate import estimate
from pipeline.poses.fit import head_angles, mirror_label, project_label
from pipeline.poses.template import template_from_lightstage
from pipeline.schema.base import BaseParams
from pipeline.schema.poses import PosesParams
from pipeline.stage import StageContext
from stages import poses

BASE = BaseParams(seed=0, profile="tiny", source="synthetic")
SIZE = 16
HOPPER = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def params(**overrides) -> PosesParams:
    values = dict(photos="", detector="synthetic", noise_px=0.0, resolution=SIZE, max_error_px=3.0, min_points=12, mirror=True,
                  eval_noise_px=[0.0, 2.0], eval_dlib=False)
    return PosesParams(**(values | overrides))


def run_poses(raw: Path, out: Path, cfg: PosesParams | None = None, faces: Path | None = None):
    inputs = {"faces": faces or raw / "faces", "faces_truth": raw / "faces_truth", "lightstage": raw / "lightstage"}
    return poses.run(StageContext(BASE, cfg or params()), inputs, {"dataset": out})


def exact_faces(raw: Path, folder: Path) -> Path:
    """The face set with every landmark replaced by the template seen by the true camera:
    landmarks the template fits exactly."""
    shutil.copytree(raw / "faces", folder)
    template, _ = template_from_lightstage(raw / "lightstage")
    cameras = read_table(raw / "faces_truth" / "cameras.parquet").set_index("image")["camera"]
    manifest = read_table(folder / MANIFEST)
    manifest["landmarks_2d"] = [project_label(np.asarray(cameras[row.image]), template, row.width).reshape(-1).tolist()
                                for row in manifest.itertuples()]
    manifest["landmarks_visible"] = [[True] * 68] * len(manifest)
    write_table(folder / MANIFEST, manifest)
    return folder


def test_the_output_is_an_eg3d_dataset(small_dataset, tmp_path):
    result = run_poses(small_dataset, tmp_path / "out")
    out = tmp_path / "out"
    labels = read_dataset_json(out / DATASET_JSON)
    # EG3D's ImageFolderDataset: every file under the root with an image extension is an image, named
    # by its path relative to the root, and each must have a label
    extensions = set(PIL.Image.registered_extensions())
    images = {str(p.relative_to(out)).replace(os.sep, "/") for p in out.rglob("*") if p.suffix.lower() in extensions}
    assert images == set(labels) and len(images) == result.metrics["images_written"] == 2 * result.metrics["kept"]
    manifest = read_table(out / MANIFEST)
    for row in manifest.itertuples():
        assert load_png(out / row.path).shape == (SIZE, SIZE, 3)
        assert load_array(out / row.labels).shape == (SIZE, SIZE) and load_array(out / row.labels).dtype == np.uint8
        label = labels[row.path]
        assert label.shape == (25,) and np.array_equal(split_label(label)[1], INTRINSICS)
        assert np.allclose(split_label(label)[0][3], [0, 0, 0, 1])
    for row in manifest[~manifest["mirrored"]].itertuples():  # the mirrored copy: flipped pixels, mirrored camera
        twin = manifest.set_index("image").loc[f"{row.image}_mirror"]
        assert np.array_equal(load_png(out / twin.path), load_png(out / row.path)[:, ::-1])
        assert np.allclose(labels[twin.path], mirror_label(labels[row.path]))
        assert head_angles(labels[twin.path])[0] == pytest.approx(-head_angles(labels[row.path])[0])
    assert read_table(out / poses.REJECTS).empty
    accuracy = result.metrics["accuracy"]
    assert set(accuracy) == {"labels", "frontal", "synthetic_0px", "synthetic_2px"}
    assert accuracy["synthetic_0px"]["all"]["yaw_median"] < accuracy["frontal"]["all"]["yaw_median"]


def test_the_template_reprojects_through_every_camera_onto_its_crop(small_dataset, tmp_path):
    faces = exact_faces(small_dataset, tmp_path / "faces")
    result = run_poses(small_dataset, tmp_path / "out", faces=faces)
    template, _ = template_from_lightstage(small_dataset / "lightstage")
    labels = read_dataset_json(tmp_path / "out" / DATASET_JSON)
    manifest = read_table(tmp_path / "out" / MANIFEST)
    assert len(manifest) == 2 * result.metrics["photos"]  # every photo kept, mirrored copies included
    for row in manifest.itertuples():
        seen = project_label(labels[row.path], template, SIZE)
        assert np.abs(seen - np.asarray(row.landmarks_2d).reshape(68, 2)).max() < 1.0, row.image
    # Exact landmarks give the true pose up to what a crop does to it: the crop is a similarity, and a
    # camera with EG3D's centred principal point sees an off-centre crop only approximately (measured:
    # yaw 0.06, pitch 0.19, roll 0.001 degrees median; p95 0.12, 0.24, 0.01). Fitted in the whole photo
    # the same landmarks give the pose to 0.1 degree (tests/poses/test_fit.py).
    accuracy = result.metrics["accuracy"]["labels"]["all"]
    assert accuracy["yaw_p95"] < 0.3 and accuracy["pitch_p95"] < 0.4 and accuracy["roll_p95"] < 0.05


def test_a_photo_that_fails_is_listed_with_its_reason_and_left_out(small_dataset, tmp_path):
    faces = tmp_path / "faces"
    shutil.copytree(small_dataset / "faces", faces)
    manifest = read_table(faces / MANIFEST)
    hidden = manifest["landmarks_visible"].map(list)
    hidden[0] = [True] * 8 + [False] * 60  # a face turned so far that 8 points show
    manifest["landmarks_visible"] = hidden
    write_table(faces / MANIFEST, manifest)
    result = run_poses(small_dataset, tmp_path / "out", faces=faces)
    rejects = read_table(tmp_path / "out" / poses.REJECTS)
    assert list(rejects["image"]) == [manifest["image"][0]] and "8 visible landmarks" in rejects["reason"][0]
    assert manifest["image"][0] not in set(read_table(tmp_path / "out" / MANIFEST)["image"])
    assert result.metrics["rejected"] == 1 and result.metrics["kept"] == len(manifest) - 1


def test_an_unreadable_photo_is_named(small_dataset, tmp_path):
    faces = tmp_path / "faces"
    shutil.copytree(small_dataset / "faces", faces)
    broken = faces / read_table(faces / MANIFEST)["path"][3]
    broken.write_bytes(b"not a png")
    with pytest.raises(DataError, match=str(broken)):
        run_poses(small_dataset, tmp_path / "out", faces=faces)


def test_no_face_anywhere_is_an_error_not_an_empty_dataset(small_dataset, tmp_path):
    faces = tmp_path / "faces"
    shutil.copytree(small_dataset / "faces", faces)
    for path in read_table(faces / MANIFEST)["path"]:
        cv2.imwrite(str(faces / path), np.full((24, 24, 3), 128, np.uint8))  # grey: dlib finds no face
    with pytest.raises(DataError, match=f"{faces}: no photo gave a pose.*no face found"):
        run_poses(small_dataset, tmp_path / "out", params(detector="dlib"), faces=faces)


def test_a_real_photograph_through_dlib_and_its_mirror(small_dataset):
    """Grace Hopper's portrait (matplotlib's sample data): a face turned a little to one side."""
    template, _ = template_from_lightstage(small_dataset / "lightstage")
    photo = load_png(HOPPER).astype(np.float32) / 255.0
    fits = [estimate(dlib_landmarks(np.ascontiguousarray(image)), template, 64, 3.0, 12).fit for image in (photo, photo[:, ::-1])]
    assert all(fit.kept and fit.error_px < 2.0 for fit in fits)
    (yaw, pitch, _), (yaw_mirrored, pitch_mirrored, _) = (head_angles(fit.label) for fit in fits)
    assert 2.0 < yaw < 15.0 and -15.0 < yaw_mirrored < -1.0  # near frontal; the mirror turns the other way
    assert abs(pitch - pitch_mirrored) < 3.0


def test_a_folder_of_real_photos(small_dataset, tmp_path):
    """Real portraits from packages (matplotlib's Grace Hopper, scikit-image's astronaut, whose
    photo holds two faces: hers and one on a badge) and a blank picture, in a folder tree."""
    data = pytest.importorskip("skimage.data", reason="scikit-image (the test extra) ships the astronaut")
    photos = tmp_path / "photos"
    (photos / "studio").mkdir(parents=True)
    shutil.copy(HOPPER, photos / "hopper.jpg")
    cv2.imwrite(str(photos / "studio" / "astronaut.png"), data.astronaut()[..., ::-1])
    cv2.imwrite(str(photos / "studio" / "wall.png"), np.full((200, 200, 3), 90, np.uint8))
    (photos / "notes.txt").write_text("not a photo")
    result = run_poses(small_dataset, tmp_path / "out", params(photos=str(photos), detector="dlib", resolution=64))
    manifest = read_table(tmp_path / "out" / MANIFEST).set_index("image")
    assert set(manifest.index) == {"hopper", "hopper_mirror", "studio_astronaut", "studio_astronaut_mirror"}
    assert manifest.loc["studio_astronaut", "faces_found"] == 2 and manifest.loc["hopper", "source"] == "hopper.jpg"
    assert manifest["labels"].isna().all() and "accuracy" not in result.metrics  # no label maps, no true cameras
    rejects = read_table(tmp_path / "out" / poses.REJECTS)
    assert list(rejects["source"]) == ["studio/wall.png"] and list(rejects["reason"]) == ["no face found"]
    assert set(read_dataset_json(tmp_path / "out" / DATASET_JSON)) == set(manifest["path"])


def test_a_folder_of_photos_needs_a_real_detector():
    with pytest.raises(ValueError, match="poses.photos.*detector: dlib"):
        params(photos="/some/folder")


def test_a_failed_run_keeps_the_dataset_already_written(small_dataset, tmp_path):
    """Through the stage's command line (outputs written to a temporary folder and swapped in on
    success): a photo that cannot be read stops it with the file's name and exit 2, and the
    dataset of the run before is left as it was."""
    faces = tmp_path / "faces"
    shutil.copytree(small_dataset / "faces", faces)
    argv = ["--no-track", "--metrics", str(tmp_path / "poses.json"), "--plots", str(tmp_path / "poses.csv"),
            "--faces", str(faces), "--faces_truth", str(small_dataset / "faces_truth"),
            "--lightstage", str(small_dataset / "lightstage"), "--dataset", str(tmp_path / "out")]
    assert poses.main(argv) == 0
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    broken = faces / read_table(faces / MANIFEST)["path"][5]
    broken.write_bytes(b"\x89PNG broken")
    done = subprocess.run([sys.executable, "-m", "stages.poses", *argv], capture_output=True, text=True)
    assert done.returncode == 2 and f"{broken}: not a readable image" in done.stderr
    assert {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == before
