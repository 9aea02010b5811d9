"""Stage ``evaluate_relighting``: the relighting chain on test subjects under test maps.

Per test case (one direction of a test pair: a photo under map a, relit to map b):
- the relighting module alone, from the true matte: normals angular error,
  albedo MAE and PSNR (raw and after a per-image scale fit), relit-foreground
  MAE, MSE, PSNR and SSIM of the model and the two baselines
  (pipeline/relighting/evaluation.py);
- end to end: the photo composited over map a's background goes through the
  matting network (from the coarse trimap it gets at inference), the chain, and
  compositing over map b's background; compared with the true composite.
And once: temporal consistency while map b turns through 360 degrees.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline import DataError
from pipeline.io.arrays import load_array, load_png, save_png
from pipeline.io.datasets import read_lightstage
from pipeline.io.manifest import MANIFEST, read_table
from pipeline.io.sheet import grid, label, to_picture
from pipeline.matting.inference import predict
from pipeline.metrics.normals import angular_summary
from pipeline.models.checkpoint import load_model
from pipeline.models.matting import MattingConfig
from pipeline.relighting.chain import RelightingChain
from pipeline.relighting.data import load_samples
from pipeline.relighting.evaluation import (METHODS, composite_pictures, evaluate_relighting, image_errors,
                                            per_frame_table, turning_sequence)
from pipeline.schema.evaluate_relighting import EvaluateRelightingParams
from pipeline.stage import StageContext, StageResult, stage_main

INPUTS = ("geometry", "albedo", "shading", "matting", "relight", "lightstage", "lightmaps", "trimaps")
OUTPUTS = ("report",)


def _case_grid(name: str, sample, result, end_to_end: dict[str, np.ndarray]) -> list[np.ndarray]:
    relit = result.relit
    return [label(to_picture(sample.image, "scalar"), name[:18]),
            label(to_picture(relit.normals * sample.alpha[..., None], "vectors"), "normals"),
            label(to_picture(relit.albedo * sample.alpha[..., None], "scalar"), "albedo"),
            label(to_picture(relit.diffuse), "diffuse map"), label(to_picture(relit.specular_hat), "S_hat"),
            label(to_picture(result.pictures["model"], "scalar"), "relit"),
            label(to_picture(result.pictures["truth"], "scalar"), "true relit"),
            label(to_picture(result.pictures["sh_lambertian"], "scalar"), "SH baseline"),
            label(to_picture(end_to_end["model"], "scalar"), "composite"),
            label(to_picture(end_to_end["truth"], "scalar"), "true composite")]


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg, report = ctx.params, outputs["report"]
    chain = RelightingChain.load(inputs["geometry"], inputs["albedo"], inputs["shading"], device=ctx.execution.device)
    matting, _ = load_model(inputs["matting"] / "model.pt", MattingConfig, ctx.execution.device)
    samples, sources = load_samples(inputs["relight"], inputs["lightstage"], inputs["lightmaps"], "test", cfg.max_cases)
    if not samples:
        raise DataError(f"{inputs['relight'] / MANIFEST}: no test pairs")
    trimaps = read_table(inputs["trimaps"] / MANIFEST).set_index(["subject", "view"])
    rows, angles, sheet, cases = [], [], [], {}
    for sample, source in tqdm(list(zip(samples, sources)), desc="evaluate relighting", unit="case"):
        truth = {"normals": sample.normals, "albedo": sample.albedo, "relit": sample.target / sample.scale}
        result = evaluate_relighting(chain, sample.image, sample.alpha, sample.camera, sample.environment, truth, cfg.exposure_median)
        photo = load_png(source.relight / source.source_composite).astype(np.float32) / 255.0
        matte = predict(matting, photo, load_png(inputs["trimaps"] / trimaps.loc[(source.subject, source.view), "coarse_trimap"])[..., 0], clamp_known=False)
        background = np.asarray(load_array(source.relight / source.target_background), dtype=np.float32) * sample.exposure
        end_to_end = composite_pictures(chain, matte.alpha.astype(np.float32), (matte.foreground * matte.alpha[..., None]).astype(np.float32),
                                        sample.camera, sample.environment, background, cfg.exposure_median)
        end_to_end["truth"] = load_png(source.relight / source.target_composite).astype(np.float32) / 255.0
        row = {"case": sample.name, **result.errors}
        for method in METHODS:
            row.update({f"end_to_end_{method}_{k}": v for k, v in image_errors(end_to_end[method], end_to_end["truth"], None).items()})
        rows.append(row)
        angles.append(result.angles)
        row_pictures = _case_grid(sample.name, sample, result, end_to_end)
        cases[f"case_{sample.name}"] = grid([row_pictures])
        if len(sheet) < cfg.grid_rows:
            sheet.append(row_pictures)
    table = pd.DataFrame(rows)
    temporal, frames_table, strip = _temporal(ctx, chain, samples[0], sources[0], inputs["lightstage"])
    report.mkdir(parents=True, exist_ok=True)
    table.to_csv(report / "per_case.csv", index=False, float_format="%.6g")
    frames_table.to_csv(report / "temporal_frames.csv", index=False, float_format="%.6g")
    overview = grid(sheet)
    save_png(report / "grid.png", overview)
    save_png(report / "temporal.png", strip)
    metrics = summarise(table, np.concatenate(angles), temporal, cfg.temporal_frames)
    return StageResult(metrics=metrics, previews={"grid": overview, "temporal": strip, **cases}, plot=frames_table)


def _temporal(ctx: StageContext, chain: RelightingChain, sample, source, lightstage: Path):
    views, lights = read_lightstage(lightstage)
    row = views.set_index(["subject", "view"]).loc[(source.subject, source.view)]
    olat = np.asarray(load_array(lightstage / row["olat"]), dtype=np.float32)
    sequences, temporal = turning_sequence(chain, sample.image, sample.alpha, sample.camera, sample.environment, olat,
                                           lights[["x", "y", "z"]].to_numpy(), ctx.params.temporal_frames, ctx.params.exposure_median)
    shown = np.linspace(0, ctx.params.temporal_frames - 1, min(8, ctx.params.temporal_frames)).round().astype(int)
    strip = grid([[label(to_picture(sequences[name][t], "scalar"), f"{name[:10]} {360 * t // ctx.params.temporal_frames}deg")
                   for t in shown] for name in ("truth", "model", "sh_lambertian")])
    return temporal, pd.DataFrame(per_frame_table(sequences, sample.alpha)), strip


def summarise(table: pd.DataFrame, angles: np.ndarray, temporal: dict, frames: int) -> dict:
    """metrics/evaluate_relighting.json: nested by what is measured, then by method."""
    means = table.drop(columns="case").mean()
    kinds = ("mae", "mse", "psnr", "ssim")
    return {
        "cases": len(table),
        "normals": angular_summary(angles),
        "albedo": {k: float(means[f"albedo_{k}"]) for k in ("mae", "psnr", "mae_scaled", "psnr_scaled")},
        "relit": {m: {k: float(means[f"relit_{m}_{k}"]) for k in kinds} for m in METHODS},
        "end_to_end": {m: {k: float(means[f"end_to_end_{m}_{k}"]) for k in kinds} for m in METHODS},
        "temporal": {"frames": frames, **temporal},
    }


def main(argv: list[str] | None = None) -> int:
    return stage_main("evaluate_relighting", run, schema=EvaluateRelightingParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
