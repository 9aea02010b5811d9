"""Stage ``poses``: face photos -> aligned crops and EG3D cameras (``dataset.json``).

Per photo of the face set: 68 landmarks from the detector ``poses.detector`` (the face
set's own plus noise, or dlib's), an FFHQ-aligned crop of ``poses.resolution`` pixels, and
the camera that projects the landmark template onto the crop's landmarks (PnP, RANSAC then
Levenberg-Marquardt, EG3D's intrinsics). A photo whose fit fails is listed with the reason in
``rejects.parquet`` and left out. Kept photos get, as EG3D's preprocessing does, a mirrored
copy with the mirrored camera. The output folder is an EG3D dataset as it stands: images
under ``images/``, ``dataset.json`` labelling each by its path; label maps cropped by the
same transform go to ``labels/`` as ``.npy`` (not an image extension, so EG3D's loader
skips them), and ``manifest.parquet`` holds landmarks, fit and source per image.

Where the face set brings true cameras (``faces_truth``; the synthetic one does), the
fits are scored against them by ``pipeline.poses.evaluation``, the only code that reads
them: the written labels, the synthetic detector at each of ``poses.eval_noise_px``, dlib's
detector on the same photos, and a baseline that takes every photo as frontal; yaw, pitch
and roll errors per yaw bin go to the metrics, errors against true yaw to the plot.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline import DataError
from pipeline.camera.eg3d import RADIUS, camera_label, orbit_camera, split_label
from pipeline.io.arrays import load_png, save_array, save_png
from pipeline.io.atomic import atomic_file
from pipeline.io.datasets import FACE_CAMERAS, read_faces
from pipeline.io.manifest import MANIFEST, read_table, write_table
from pipeline.io.sheet import grid, label
from pipeline.poses.align import rotation_of, scale_of, warp
from pipeline.poses.dataset import DATASET_JSON, write_dataset_json
from pipeline.poses.detect import Detection, dlib_landmarks, synthetic_landmarks
from pipeline.poses.estimate import estimate
from pipeline.poses.evaluation import pose_errors, summarise
from pipeline.poses.fit import head_angles, mirror_label, mirror_landmarks
from pipeline.poses.template import template_from_lightstage
from pipeline.schema.poses import PosesParams
from pipeline.seeds import rng_for
from pipeline.stage import StageContext, StageResult, stage_main

INPUTS = ("faces", "faces_truth", "lightstage")
OUTPUTS = ("dataset",)
REJECTS = "rejects.parquet"
TEMPLATE = "template.json"
PREVIEW = 8
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


def photo_table(folder: Path) -> pd.DataFrame:
    """The pictures under ``folder`` (recursively, sorted), named by their path with '/' as '_'."""
    if not folder.is_dir():
        raise DataError(f"{folder}: poses.photos is not a folder")
    paths = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    if not paths:
        raise DataError(f"{folder}: no photos ({', '.join(PHOTO_SUFFIXES)}) in poses.photos")
    return pd.DataFrame({"image": [str(Path(p).with_suffix("")).replace("/", "_") for p in paths], "path": paths,
                         "labels": None, "split": "train"})


def detect(cfg: PosesParams, seed: int, index: int, row, photo: np.ndarray) -> Detection:
    if cfg.detector == "dlib":
        return dlib_landmarks(photo.astype(np.float32) / 255.0)
    return synthetic_landmarks(row.landmarks_2d, row.landmarks_visible, cfg.noise_px, rng_for(seed, "poses", index))


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg, out = ctx.params, outputs["dataset"]
    folder = Path(cfg.photos) if cfg.photos else inputs["faces"]
    faces = photo_table(folder) if cfg.photos else read_faces(folder)
    template, averaged = template_from_lightstage(inputs["lightstage"])
    size = cfg.resolution
    rows, rejects, labels, preview = [], [], [], []
    for index, row in enumerate(tqdm(faces.itertuples(), total=len(faces), desc="poses", unit="photo")):
        photo = load_png(folder / row.path)
        detection = detect(cfg, ctx.base.seed, index, row, photo)
        found = estimate(detection, template, size, cfg.max_error_px, cfg.min_points)
        if not found.fit.kept:
            rejects.append({"image": row.image, "source": row.path, "split": row.split, "reason": found.fit.reason,
                            "error_px": found.fit.error_px, "faces_found": detection.faces})
            continue
        crop = warp(photo, found.affine, size)
        segments = None if row.labels is None else warp(load_png(folder / row.labels)[..., 0], found.affine, size, labels=True)
        copies = [("", crop, segments, found.fit.label, found.xy, found.visible)]
        if cfg.mirror:
            xy, visible = mirror_landmarks(found.xy, found.visible, size)
            mirrored = None if segments is None else segments[:, ::-1]
            copies.append(("_mirror", crop[:, ::-1], mirrored, mirror_label(found.fit.label), xy, visible))
        for suffix, picture, segment, camera, xy, visible in copies:
            name = f"{row.image}{suffix}"
            paths = {"path": f"images/{name}.png", "labels": None if segment is None else f"labels/{name}.npy"}
            save_png(out / paths["path"], np.ascontiguousarray(picture))
            if segment is not None:
                save_array(out / paths["labels"], np.ascontiguousarray(segment), dtype=np.uint8)
            labels.append((paths["path"], camera))
            yaw, pitch, roll = head_angles(camera)
            rows.append({"image": name, **paths, "source": row.path, "mirrored": bool(suffix), "split": row.split,
                         "camera": camera.tolist(), "yaw_deg": yaw, "pitch_deg": pitch, "roll_deg": roll,
                         "radius": float(np.linalg.norm(split_label(camera)[0][:3, 3])),
                         "landmarks_2d": xy.reshape(-1).tolist(), "landmarks_visible": np.asarray(visible).tolist(),
                         "reprojection_error_px": found.fit.error_px, "fit_points": found.fit.points,
                         "faces_found": detection.faces,  # the largest was taken
                         "crop": found.affine.reshape(-1).tolist(), "crop_scale": scale_of(found.affine),
                         "crop_rotation_deg": rotation_of(found.affine), "detector": cfg.detector})
        if len(preview) < PREVIEW:
            preview.append(label(crop, f"{row.image} yaw {head_angles(found.fit.label)[0]:+.0f}"))
    if not rows:
        reasons = pd.DataFrame(rejects)["reason"].value_counts().head(3).to_dict() if rejects else {}
        raise DataError(f"{inputs['faces']}: no photo gave a pose ({len(rejects)} rejected; reasons: {reasons})")
    manifest = pd.DataFrame(rows)
    write_table(out / MANIFEST, manifest)
    write_table(out / REJECTS, pd.DataFrame(rejects, columns=["image", "source", "split", "reason", "error_px", "faces_found"]))
    write_dataset_json(out / DATASET_JSON, labels)
    with atomic_file(out / TEMPLATE, "w") as handle:
        json.dump({"landmarks_3d": template.tolist(), "subjects_averaged": averaged,
                   "source": "mean landmarks_3d of the light stage's training subjects"}, handle)
    originals = manifest[~manifest["mirrored"]]
    metrics = {"photos": len(faces), "kept": len(originals), "rejected": len(rejects),
               "kept_share": len(originals) / len(faces), "images_written": len(manifest),
               "reprojection_error_px_median": float(originals["reprojection_error_px"].median()),
               "radius_median": float(originals["radius"].median()), "radius_target": RADIUS}
    truth = read_table(inputs["faces_truth"] / FACE_CAMERAS, ("image", "yaw", "pitch"))
    plot = None
    if len(truth) and not cfg.photos:  # a folder of photos has no true cameras
        scores, plot = score(cfg, ctx.base.seed, faces, folder, manifest[~manifest["mirrored"]], template, truth)
        metrics["accuracy"] = scores
    while len(preview) % 4:
        preview.append(np.zeros_like(preview[0]))
    return StageResult(metrics=metrics, previews={"crops": grid([preview[i:i + 4] for i in range(0, len(preview), 4)])},
                       plot=plot)


def score(cfg: PosesParams, seed: int, faces: pd.DataFrame, folder: Path, written: pd.DataFrame,
          template: np.ndarray, truth: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """Errors against the true cameras: the labels written, each detector setting refitted, and
    the frontal baseline. -> (summary per method and yaw bin, one row per photo for the plot)."""
    truth = truth.set_index("image")
    true_yaw, true_pitch = np.degrees(truth["yaw"].astype(float)), np.degrees(truth["pitch"].astype(float))
    rows = []

    def add(method: str, image: str, label: np.ndarray | None, rotation: float) -> None:
        kept = label is not None
        errors = pose_errors(label, rotation, true_yaw[image], true_pitch[image]) if kept else [np.nan] * 3
        rows.append({"method": method, "image": image, "true_yaw": true_yaw[image], "kept": kept,
                     **dict(zip(("yaw", "pitch", "roll"), errors))})

    fitted = {row.image: row for row in written.itertuples()}
    frontal = camera_label(orbit_camera(0.0, 0.0))
    settings = [(f"synthetic_{sigma:g}px", PosesParams.model_validate(cfg.model_dump() | {"detector": "synthetic", "noise_px": sigma}))
                for sigma in cfg.eval_noise_px]
    if cfg.eval_dlib:
        settings.append(("dlib", PosesParams.model_validate(cfg.model_dump() | {"detector": "dlib"})))
    for index, row in enumerate(tqdm(faces.itertuples(), total=len(faces), desc="poses: scoring", unit="photo")):
        if row.image not in true_yaw.index:
            continue
        written_row = fitted.get(row.image)
        add("labels", row.image, None if written_row is None else np.asarray(written_row.camera),
            0.0 if written_row is None else written_row.crop_rotation_deg)
        add("frontal", row.image, frontal, 0.0)
        photo = load_png(folder / row.path) if cfg.eval_dlib else None
        for method, setting in settings:
            found = estimate(detect(setting, seed, index, row, photo), template, setting.resolution,
                             setting.max_error_px, setting.min_points)
            add(method, row.image, found.fit.label, rotation_of(found.affine) if found.fit.kept else 0.0)
    table = pd.DataFrame(rows)
    plot = table.pivot(index="image", columns="method", values="yaw").abs().add_suffix("_yaw_error")
    plot.insert(0, "true_yaw", true_yaw[plot.index].to_numpy())
    return summarise(table), plot.sort_values("true_yaw").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    return stage_main("poses", run, schema=PosesParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True, portable=True)


if __name__ == "__main__":
    raise SystemExit(main())
