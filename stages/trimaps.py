"""Stage ``trimaps``: per light-stage view, a trimap from the true alpha (band width drawn
per view from a range scaled with the image size), and the coarse inputs a model sees at
inference: a simulated off-the-shelf segmentation and its coarse trimap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.io.arrays import load_array, save_png
from pipeline.io.datasets import read_lightstage
from pipeline.io.manifest import MANIFEST, write_table
from pipeline.io.sheet import grid, label, to_picture
from pipeline.matting.trimap import UNKNOWN, band_width, coarse_segmentation, coarse_trimap, trimap_from_alpha
from pipeline.schema.trimaps import TrimapsParams
from pipeline.seeds import rng_for
from pipeline.stage import StageContext, StageResult, stage_main

INPUTS = ("lightstage",)
OUTPUTS = ("trimaps",)


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg, out = ctx.params, outputs["trimaps"]
    views, _ = read_lightstage(inputs["lightstage"])
    rows, preview, unknown_share, seg_iou = [], [], [], []
    for index, view in enumerate(views.itertuples()):
        rng = rng_for(ctx.base.seed, "trimap", index)
        alpha = np.asarray(load_array(inputs["lightstage"] / view.alpha), dtype=np.float32)
        size = max(alpha.shape)
        width = band_width(rng, size, tuple(cfg.band_fraction))
        trimap = trimap_from_alpha(alpha, width, cfg.fg_threshold)
        segmentation = coarse_segmentation(alpha, rng, round(cfg.thin_fraction * size), round(cfg.jitter_fraction * size))
        coarse = coarse_trimap(segmentation, max(1, round(cfg.coarse_band_fraction * size)))
        stem = f"{view.subject}/v{view.view:02d}"
        paths = {"trimap": f"{stem}/trimap.png", "segmentation": f"{stem}/segmentation.png", "coarse_trimap": f"{stem}/coarse_trimap.png"}
        save_png(out / paths["trimap"], trimap)
        save_png(out / paths["segmentation"], segmentation.astype(np.uint8) * 255)
        save_png(out / paths["coarse_trimap"], coarse)
        rows.append({"subject": view.subject, "view": view.view, "split": view.split, "height": alpha.shape[0],
                     "width": alpha.shape[1], "band_width": width, **paths})
        unknown_share.append(float((trimap == UNKNOWN).mean()))
        truth = alpha >= 0.5
        seg_iou.append(float((segmentation & truth).sum() / max((segmentation | truth).sum(), 1)))
        if len(preview) < 4:
            preview.append([label(to_picture(alpha, "scalar"), f"{stem} alpha"), label(to_picture(trimap / 255.0, "scalar"), f"trimap w={width}"),
                            label(to_picture(segmentation.astype(float), "scalar"), "segmentation"),
                            label(to_picture(coarse / 255.0, "scalar"), "coarse trimap")])
    manifest = pd.DataFrame(rows)
    write_table(out / MANIFEST, manifest)
    metrics = {"views": len(manifest), "band_width_mean": float(manifest["band_width"].mean()),
               "unknown_share_mean": float(np.mean(unknown_share)), "segmentation_iou_mean": float(np.mean(seg_iou))}
    return StageResult(metrics=metrics, previews={"trimaps": grid(preview)})


def main(argv: list[str] | None = None) -> int:
    return stage_main("trimaps", run, schema=TrimapsParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, portable=True)


if __name__ == "__main__":
    raise SystemExit(main())
