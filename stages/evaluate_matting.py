"""Stage ``evaluate_matting``: SAD, MSE, Grad and Conn on the test subjects.

Three methods on the same test composites: the network with trimaps from the
true alpha, closed-form matting (``pymatting``) with the same trimaps, and the
network from the coarse trimaps it gets at inference. The network's mattes are
the mean of its passes over the image and its mirror image, as ``predict`` gives
them (``single_pass``: the first pass alone, from the same ``predict_passes``). Errors are over the unknown region
of the true-alpha trimap; for the coarse path also over the whole image.

The composites are the relit test views over their own maps: smooth skies,
where closed-form matting's colour-line model holds almost exactly. As
Composition-1k puts its test foregrounds over natural photographs, the same
foregrounds also go over held-out indoor clutter (``clutter``: network and
closed-form with the true-alpha trimap).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline import DataError
from pipeline.io.arrays import save_png
from pipeline.io.sheet import grid, label, to_picture
from pipeline.light.tonemap import composite
from pipeline.matting.data import indoor_backdrop, load_samples
from pipeline.matting.inference import closed_form, predict, predict_passes
from pipeline.matting.trimap import UNKNOWN
from pipeline.metrics.matting import matting_errors, sad
from pipeline.models.checkpoint import load_model
from pipeline.models.matting import MattingConfig
from pipeline.schema.evaluate_matting import EvaluateMattingParams
from pipeline.seeds import rng_for
from pipeline.stage import StageContext, StageResult, stage_main

INPUTS = ("matting", "relight", "lightstage", "trimaps")
OUTPUTS = ("report",)


def _grid_row(sample, coarse, model_matte) -> list[np.ndarray]:
    return [label(to_picture(sample.image, "scalar"), sample.name[:18]),
            label(to_picture(sample.coarse_trimap / 255.0, "scalar"), "coarse trimap"),
            label(to_picture(coarse.refined_trimap / 255.0, "scalar"), "refined trimap"),
            label(to_picture(coarse.alpha, "scalar"), "alpha (coarse)"),
            label(to_picture(coarse.foreground * coarse.alpha[..., None], "scalar"), "foreground"),
            label(to_picture(model_matte.alpha, "scalar"), "alpha (trimap)"),
            label(to_picture(sample.alpha, "scalar"), "true alpha")]


def _errors(method: str, predicted: np.ndarray, truth: np.ndarray, unknown: np.ndarray) -> dict[str, float]:
    """A method's SAD, MSE, Grad and Conn as ``{method}_{error}`` columns of the per-image table."""
    return {f"{method}_{k}": v for k, v in matting_errors(predicted, truth, unknown).items()}


def over_clutter(sample, index: int, seed: int) -> np.ndarray:
    """The sample's foreground over a held-out indoor clutter (display space, as its composite)."""
    height, width = sample.alpha.shape
    backdrop = indoor_backdrop(rng_for(seed, "evaluate-matting-clutter", index), height, width, frame=max(height, width))
    return composite(sample.foreground * sample.alpha[..., None], sample.alpha, backdrop)


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg = ctx.params
    model, _ = load_model(inputs["matting"] / "model.pt", MattingConfig, ctx.execution.device)
    samples = load_samples(inputs["relight"], inputs["lightstage"], inputs["trimaps"], "test")[: cfg.max_images]
    if not samples:
        raise DataError(f"{inputs['relight']}: no test samples")
    rows, sheet, clutter_sheet = [], [], []
    for index, sample in enumerate(tqdm(samples, desc="evaluate matting", unit="image")):
        image, unknown = sample.image, sample.trimap == UNKNOWN
        with_trimap, single = predict_passes(model, image, sample.trimap, clamp_known=True)
        from_coarse = predict(model, image, sample.coarse_trimap, clamp_known=False)
        row = {"image": sample.name}
        row.update(_errors("model", with_trimap.alpha, sample.alpha, unknown))
        row.update(_errors("single_pass", single.alpha, sample.alpha, unknown))
        row.update(_errors("coarse", from_coarse.alpha, sample.alpha, unknown))
        row["coarse_sad_whole_image"] = sad(from_coarse.alpha, sample.alpha, np.ones_like(unknown))
        if cfg.closed_form:
            row.update(_errors("closed_form", closed_form(image, sample.trimap), sample.alpha, unknown))
        busy = over_clutter(sample, index, ctx.base.seed)
        on_clutter = predict(model, busy, sample.trimap, clamp_known=True).alpha
        row.update(_errors("clutter_model", on_clutter, sample.alpha, unknown))
        pictures = [label(to_picture(busy, "scalar"), "over clutter"), label(to_picture(on_clutter, "scalar"), "network")]
        if cfg.closed_form:
            baseline = closed_form(busy, sample.trimap)
            row.update(_errors("clutter_closed_form", baseline, sample.alpha, unknown))
            pictures.append(label(to_picture(baseline, "scalar"), "closed-form"))
        rows.append(row)
        if len(sheet) < cfg.grid_rows:
            sheet.append(_grid_row(sample, from_coarse, with_trimap))
            clutter_sheet.append(pictures + [label(to_picture(sample.alpha, "scalar"), "true alpha")])
    table = pd.DataFrame(rows)
    outputs["report"].mkdir(parents=True, exist_ok=True)
    table.to_csv(outputs["report"] / "per_image.csv", index=False, float_format="%.6g")
    picture, clutter_picture = grid(sheet), grid(clutter_sheet)
    save_png(outputs["report"] / "grid.png", picture)
    save_png(outputs["report"] / "clutter.png", clutter_picture)
    means = table.drop(columns="image").mean()
    methods = ["model", "single_pass", "coarse"] + (["closed_form"] if cfg.closed_form else [])

    def errors(method: str) -> dict[str, float]:
        return {k: float(means[f"{method}_{k}"]) for k in ("sad", "mse", "grad", "conn")}

    metrics = {"images": len(table), **{m: errors(m) for m in methods},
               "coarse_sad_whole_image": float(means["coarse_sad_whole_image"]),
               "clutter": {m: errors(f"clutter_{m}") for m in methods if m not in ("coarse", "single_pass")}}
    return StageResult(metrics=metrics, previews={"grid": picture, "clutter": clutter_picture})


def main(argv: list[str] | None = None) -> int:
    return stage_main("evaluate_matting", run, schema=EvaluateMattingParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
