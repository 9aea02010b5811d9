"""Stage ``relight``: image-based relighting of every light-stage view.

Each subject view gets ``pairs_per_view`` pairs: the view under map a and map b
(maps of the subject's split, each turned by a random angle), with per-pixel
diffuse and Phong light maps from the true normals and reflection vectors, the
map as the camera sees it, and a composite over it with the true alpha, exposed
for the subject and written as sRGB PNG for people and the matting stage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline import DataError
from pipeline.io.arrays import load_array, save_array, save_png, srgb_encode
from pipeline.io.datasets import read_lightstage
from pipeline.io.manifest import MANIFEST, write_table
from pipeline.io.sheet import grid, label, to_picture
from pipeline.light.pairs import LitView, light_view, load_environments
from pipeline.light.tonemap import composite, subject_exposure
from pipeline.schema.relight import RelightParams
from pipeline.seeds import rng_for
from pipeline.stage import StageContext, StageResult, stage_main

INPUTS = ("lightstage", "lightmaps")
OUTPUTS = ("relight",)
MAP_EXPOSURE = 0.3  # light maps are irradiance-like: about 1/albedo brighter than the subject


def _save_lit(out: Path, stem: str, side: str, lit: LitView, alpha: np.ndarray, target: float) -> dict:
    """Write one side of a pair; return its manifest columns (paths and exposure, suffixed by side)."""
    row = {}
    for field in ("relit", "diffuse", "specular", "background"):
        row[f"{field}_{side}"] = f"{stem}_{field}.npy"
        save_array(out / row[f"{field}_{side}"], getattr(lit, field))
    exposure = subject_exposure(lit.relit, alpha, target)
    row[f"composite_{side}"] = f"{stem}_composite.png"
    save_png(out / row[f"composite_{side}"], srgb_encode(composite(lit.relit, alpha, lit.background) * exposure))
    row[f"exposure_{side}"] = exposure
    return row


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg, out = ctx.params, outputs["relight"]
    views, lights = read_lightstage(inputs["lightstage"])
    map_table, maps = load_environments(inputs["lightmaps"])
    by_split = {split: sorted(group["hdri"]) for split, group in map_table.groupby("split")}
    directions = lights[["x", "y", "z"]].to_numpy()
    rows, preview = [], []
    for index, view in enumerate(tqdm(list(views.itertuples()), desc="relight views", unit="view")):
        if view.split not in by_split:
            raise DataError(f"{inputs['lightmaps'] / MANIFEST}: no maps in the {view.split!r} split for {view.subject}")
        rng = rng_for(ctx.base.seed, "relight", index)
        olat = np.asarray(load_array(inputs["lightstage"] / view.olat), dtype=np.float32)
        alpha = np.asarray(load_array(inputs["lightstage"] / view.alpha), dtype=np.float32)
        normals = np.asarray(load_array(inputs["lightstage"] / view.normals), dtype=np.float32)
        candidates = by_split[view.split]
        for pair in range(cfg.pairs_per_view):
            names = rng.choice(candidates, size=2, replace=len(candidates) < 2)
            row = {"subject": view.subject, "view": view.view, "split": view.split, "pair": pair,
                   "height": view.height, "width": view.width, "camera": list(view.camera)}
            for side, name in zip("ab", names):
                turn = int(rng.integers(maps[name].diffuse.shape[1])) if cfg.rotate else 0
                lit = light_view(olat, directions, alpha, normals, np.asarray(view.camera), maps[name].rotated(turn))
                stem = f"{view.subject}/v{view.view:02d}/p{pair:02d}_{side}"
                row.update({f"hdri_{side}": name, f"rotation_{side}": 2 * np.pi * turn / maps[name].diffuse.shape[1],
                            **_save_lit(out, stem, side, lit, alpha, cfg.exposure_median)})
                if len(preview) < 8:
                    preview.append(_preview_cells(out, row, side, lit))
            rows.append(row)
    manifest = pd.DataFrame(rows)
    write_table(out / MANIFEST, manifest)
    metrics = {"pairs": len(manifest), "train_pairs": int((manifest["split"] == "train").sum()),
               "test_pairs": int((manifest["split"] == "test").sum()), "maps_used": int(pd.concat([manifest.hdri_a, manifest.hdri_b]).nunique())}
    return StageResult(metrics=metrics, previews={"relit_pairs": grid(preview)})


def _preview_cells(out: Path, row: dict, side: str, lit: LitView) -> list[np.ndarray]:
    from pipeline.io.arrays import load_png

    exposure = row[f"exposure_{side}"]
    return [label(load_png(out / row[f"composite_{side}"]), f"{row['subject']} v{row['view']} {row[f'hdri_{side}']}"),
            label(to_picture(lit.relit, exposure=exposure), "relit"),
            label(to_picture(lit.diffuse, exposure=exposure * MAP_EXPOSURE), "diffuse map"),
            label(to_picture(lit.specular[1], exposure=exposure * MAP_EXPOSURE), "phong 16 map"),
            label(to_picture(lit.specular[3], exposure=exposure * MAP_EXPOSURE), "phong 64 map")]


def main(argv: list[str] | None = None) -> int:
    return stage_main("relight", run, schema=RelightParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, portable=True)


if __name__ == "__main__":
    raise SystemExit(main())
