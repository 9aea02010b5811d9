"""Pictures of a raw dataset: subjects, OLATs, G-buffers, HDR maps and the face set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.io.arrays import load_array, load_png
from pipeline.io.sheet import grid, label, to_picture

# One colour per semantic label (pipeline.io.datasets.LABELS).
LABEL_COLOURS = np.array([[0, 0, 0], [230, 180, 150], [110, 60, 20], [250, 250, 250], [60, 30, 10],
                          [210, 40, 70], [170, 130, 100], [40, 90, 210]], dtype=np.uint8)


def fractional_alpha_share(alpha: np.ndarray) -> float:
    """Share of foreground pixels (alpha > 0.05) whose alpha is fractional (0.05 < alpha < 0.95)."""
    foreground = alpha > 0.05
    return float(((alpha > 0.05) & (alpha < 0.95)).sum() / max(foreground.sum(), 1))


def face_alpha_statistics(directory: Path, manifest: pd.DataFrame) -> np.ndarray:
    """Per subject, the share of its foreground pixels (all views) with fractional alpha."""
    shares = []
    for _, views in manifest.groupby("subject"):
        alphas = np.concatenate([np.asarray(load_array(directory / path)).ravel() for path in views["alpha"]])
        shares.append(fractional_alpha_share(alphas))
    return np.array(shares)


def draw_landmarks(picture: np.ndarray, xy: np.ndarray, visible: np.ndarray, scale: float) -> np.ndarray:
    """Green dots for visible landmarks, red for hidden ones."""
    import cv2

    out = np.ascontiguousarray(picture.copy())
    for (x, y), seen in zip(xy * scale, visible):
        cv2.circle(out, (int(round(x)), int(round(y))), max(1, int(scale)), (0, 220, 0) if seen else (230, 0, 0), -1)
    return out


def _upscale(picture: np.ndarray, factor: int) -> np.ndarray:
    return np.repeat(np.repeat(picture, factor, axis=0), factor, axis=1)


def lightstage_rows(directory: Path, manifest: pd.DataFrame, lights: pd.DataFrame, rows: int = 4) -> list[list[np.ndarray]]:
    """One row per subject (walking through the views): uniformly lit with landmarks, three
    OLATs, foreground, normals, albedo, alpha, UV and labels."""
    first = manifest.drop_duplicates("subject").head(rows).index
    picked = manifest.loc[[i + (n % manifest["view"].nunique()) for n, i in enumerate(first)]]
    solid = lights["solid_angle"].to_numpy(np.float32)
    directions = lights[["x", "y", "z"]].to_numpy()
    light_ids = [int(np.argmax(directions @ d)) for d in ([0.6, 0.5, 0.6], [0.0, 0.2, 1.0], [-0.9, 0.3, 0.2])]
    sheet = []
    for _, row in picked.iterrows():
        olat = np.asarray(load_array(directory / row.olat), dtype=np.float32)
        uniform = np.tensordot(solid, olat, axes=1)  # a constant environment of radiance 1
        xy = np.asarray(row.landmarks_2d).reshape(-1, 2)
        lit = draw_landmarks(to_picture(uniform), xy, np.asarray(row.landmarks_visible), 1.0)
        exposure = 1.0 / max(float(np.percentile(olat[light_ids], 99.5)), 1e-6)
        uv = np.asarray(load_array(directory / row.uv), dtype=np.float32)
        sheet.append(
            [label(lit, f"{row.subject} v{row.view} {row.split}")]
            + [label(to_picture(olat[i], exposure=exposure), f"light {i}") for i in light_ids]
            + [label(to_picture(load_array(directory / row.foreground)), "foreground"),
               label(to_picture(load_array(directory / row.normals), "vectors"), "normals"),
               label(to_picture(load_array(directory / row.albedo), "scalar"), "albedo"),
               label(to_picture(load_array(directory / row.alpha), "scalar"), "alpha"),
               label(to_picture(np.concatenate([uv, np.zeros_like(uv[..., :1])], axis=-1), "scalar"), "uv"),
               label(LABEL_COLOURS[np.asarray(load_array(directory / row.labels))], "labels")]
        )
    return sheet


def hdri_row(directory: Path, manifest: pd.DataFrame, count: int = 4) -> list[np.ndarray]:
    """HDR maps exposed at their median so sky and ground read (the sun clips)."""
    cells = []
    for _, row in manifest.head(count).iterrows():
        env = np.asarray(load_array(directory / row.path), dtype=np.float32)
        cells.append(label(to_picture(env, exposure=0.4 / max(float(np.median(env)), 1e-6)), f"{row.hdri} {row.split}"))
    return cells


def face_rows(directory: Path, manifest: pd.DataFrame, count: int = 8, scale: int = 2) -> list[list[np.ndarray]]:
    """Face images with their landmarks, and their label maps beneath."""
    images, labels = [], []
    for _, row in manifest.head(count).iterrows():
        image = _upscale(load_png(directory / row.path), scale)
        xy = np.asarray(row.landmarks_2d).reshape(-1, 2)
        images.append(draw_landmarks(image, xy, np.asarray(row.landmarks_visible), scale))
        labels.append(_upscale(LABEL_COLOURS[load_png(directory / row.labels)[..., 0]], scale))
    return [images, labels]


def contact_sheet(lightstage: Path, manifest: pd.DataFrame, lights: pd.DataFrame, hdri: Path, hdris: pd.DataFrame,
                  faces: Path, face_manifest: pd.DataFrame) -> np.ndarray:
    """Light-stage subjects, HDR maps and the face set, in one picture."""
    import cv2

    top = grid(lightstage_rows(lightstage, manifest, lights))
    parts = [top, grid([hdri_row(hdri, hdris)]), grid(face_rows(faces, face_manifest))]
    width = top.shape[1]
    resized = [p if p.shape[1] <= width else cv2.resize(p, (width, round(p.shape[0] * width / p.shape[1])), interpolation=cv2.INTER_AREA)
               for p in parts]
    return np.concatenate([np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)), constant_values=32) for p in resized], axis=0)
