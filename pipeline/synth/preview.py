"""A contact sheet of a raw dataset: subjects, OLAT images, G-buffers and HDR maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.io.arrays import load_array
from pipeline.io.sheet import grid, label, to_picture


def lightstage_sheet(directory: Path, manifest: pd.DataFrame, lights: pd.DataFrame, rows: int = 4, olats: int = 3) -> np.ndarray:
    """One row per (subject, view): uniformly lit, a few OLATs, normals, albedo, alpha."""
    first = manifest.drop_duplicates("subject").head(rows).index
    # Walk through the views so the sheet shows the subjects from several sides.
    picked = manifest.loc[[i + (n % manifest["view"].nunique()) for n, i in enumerate(first)]]
    solid = lights["solid_angle"].to_numpy(np.float32)
    light_ids = np.linspace(0, len(lights) - 1, olats + 2).round().astype(int)[1:-1]
    sheet = []
    for _, row in picked.iterrows():
        olat = load_array(directory / row.olat)
        uniform = np.tensordot(solid, olat.astype(np.float32), axes=1)  # constant environment of radiance 1
        exposure = 1.0 / max(float(np.percentile(uniform, 99)), 1e-6)
        cells = [label(to_picture(uniform, exposure=exposure), f"{row.subject} v{row.view} uniform")]
        olat_exposure = 1.0 / max(float(np.percentile(olat[light_ids], 99.5)), 1e-6)
        cells += [label(to_picture(olat[i], exposure=olat_exposure), f"light {i}") for i in light_ids]
        cells += [
            label(to_picture(load_array(directory / row.normals), "vectors"), "normals"),
            label(to_picture(load_array(directory / row.albedo), "scalar"), "albedo"),
            label(to_picture(load_array(directory / row.alpha), "scalar"), "alpha"),
        ]
        sheet.append(cells)
    return grid(sheet)


def hdri_sheet(directory: Path, manifest: pd.DataFrame, count: int = 6) -> np.ndarray:
    """HDR maps, tone-mapped at their median so sky and ground are readable (the sun clips)."""
    cells = []
    for _, row in manifest.head(count).iterrows():
        env = load_array(directory / row.path).astype(np.float32)
        cells.append(label(to_picture(env, exposure=0.4 / max(float(np.median(env)), 1e-6)), f"{row.hdri} {row.split}"))
    return grid([cells[i:i + 3] for i in range(0, len(cells), 3)])
