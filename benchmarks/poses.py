"""Photos per second of the poses pipeline with each detector, and what it makes of real photographs.

    python benchmarks/poses.py [--photos 200] [--sheet reports/real_inputs/poses_real.png]

On the face set (data/raw/faces, after `make repro` or `dvc repro synth`): landmarks, aligned crop
and fit per photo, for the synthetic detector and for dlib, in one run. Then the real portraits
that ship in packages here (matplotlib's Grace Hopper, scikit-image's astronaut) through dlib:
the photo with dlib's landmarks, the aligned crop with the template reprojected by the fitted
camera, and the mirrored crop with the mirrored camera's reprojection.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import matplotlib
import numpy as np

from pipeline.config import load_params
from pipeline.io.arrays import load_png, save_png
from pipeline.io.datasets import read_faces
from pipeline.io.resize import resize_picture
from pipeline.io.sheet import grid, label
from pipeline.poses.align import warp
from pipeline.poses.detect import dlib_landmarks, synthetic_landmarks
from pipeline.poses.estimate import estimate
from pipeline.poses.fit import head_angles, mirror_label, project_label
from pipeline.poses.template import template_from_lightstage

TILE = 256


def real_photos() -> dict[str, np.ndarray]:
    photos = {"grace_hopper": load_png(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")}
    try:
        from skimage import data
        photos["astronaut"] = data.astronaut()
    except ImportError:
        pass
    return photos


def dots(picture: np.ndarray, points: np.ndarray, colour: tuple[int, int, int], scale: float) -> np.ndarray:
    out = picture.copy()
    for x, y in points * scale:
        cv2.circle(out, (int(round(x)), int(round(y))), 2, colour, -1, lineType=cv2.LINE_AA)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200, help="face-set photos timed per detector")
    parser.add_argument("--sheet", type=Path, default=Path("reports/real_inputs/poses_real.png"))
    args = parser.parse_args()
    cfg = load_params("params.yaml").section("poses")
    template, _ = template_from_lightstage(Path("data/raw/lightstage"))
    faces = read_faces("data/raw/faces").head(args.photos)
    dlib_landmarks(np.zeros((32, 32, 3), np.float32))  # load the models outside the timing
    for detector in ("synthetic", "dlib"):
        start, kept = time.perf_counter(), 0
        for index, row in enumerate(faces.itertuples()):
            photo = load_png(Path("data/raw/faces") / row.path)
            found = (dlib_landmarks(photo.astype(np.float32) / 255.0) if detector == "dlib" else
                     synthetic_landmarks(row.landmarks_2d, row.landmarks_visible, cfg.noise_px, np.random.default_rng(index)))
            fit = estimate(found, template, cfg.resolution, cfg.max_error_px, cfg.min_points)
            if fit.fit.kept:
                warp(photo, fit.affine, cfg.resolution)
                kept += 1
        seconds = time.perf_counter() - start
        print(f"{detector}: {len(faces) / seconds:.0f} photos/s ({kept} of {len(faces)} kept, "
              f"{faces['height'].iloc[0]} px photos, {cfg.resolution} px crops)")
    rows = []
    for name, photo in real_photos().items():
        detection = dlib_landmarks(photo.astype(np.float32) / 255.0)
        found = estimate(detection, template, TILE, cfg.max_error_px * TILE / cfg.resolution, cfg.min_points)
        if not found.fit.kept:
            print(f"{name}: {found.fit.reason}")
            continue
        yaw, pitch, roll = head_angles(found.fit.label)
        print(f"{name}: {detection.faces} face(s), yaw {yaw:+.1f}, pitch {pitch:+.1f}, roll {roll:+.1f} deg, "
              f"reprojection {found.fit.error_px:.2f} px at {TILE} px")
        scale = TILE / max(photo.shape[:2])
        whole = dots(resize_picture(photo, round(photo.shape[0] * scale), round(photo.shape[1] * scale)), detection.xy,
                     (255, 40, 40), scale)
        whole = cv2.copyMakeBorder(whole, 0, TILE - whole.shape[0], 0, TILE - whole.shape[1], cv2.BORDER_CONSTANT)
        crop = warp(photo, found.affine, TILE)
        mirrored = mirror_label(found.fit.label)
        rows.append([label(whole, f"{name}: dlib, {detection.faces} face(s)"),
                     label(dots(crop, project_label(found.fit.label, template, TILE), (40, 255, 40), 1.0),
                           f"crop, yaw {yaw:+.1f} pitch {pitch:+.1f}"),
                     label(dots(np.ascontiguousarray(crop[:, ::-1]), project_label(mirrored, template, TILE), (40, 255, 40), 1.0),
                           f"mirrored, yaw {head_angles(mirrored)[0]:+.1f}")])
    save_png(args.sheet, grid(rows))
    print(f"wrote {args.sheet}")


if __name__ == "__main__":
    main()
