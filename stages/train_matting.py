"""Stage ``train_matting``: the matting network on re-composited training views.

Writes a self-describing model file (weights, architecture, resolved params,
data hashes) and the loss curve; an interrupted run resumes from its last
checkpoint when rerun with the same params and data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from pipeline import DataError
from pipeline.config import flatten
from pipeline.lineage import dvc_md5
from pipeline.matting.data import BatchRecipe, load_samples
from pipeline.matting.training import TrainSettings, train
from pipeline.models import checkpoint
from pipeline.models.matting import MattingLossWeights
from pipeline.schema.train_matting import TrainMattingParams
from pipeline.stage import StageContext, StageResult, stage_main

INPUTS = ("relight", "lightstage", "trimaps")
OUTPUTS = ("matting",)
MODEL_FILE = "model.pt"


def settings_from(ctx: StageContext) -> TrainSettings:
    cfg = ctx.params
    recipe = BatchRecipe(batch=cfg.batch, crop=cfg.crop, band_fraction=tuple(cfg.band_fraction),
                         coarse_share=cfg.coarse_share, texture_share=cfg.texture_share)
    weights = MattingLossWeights(alpha=cfg.loss_alpha, composition=cfg.loss_composition,
                                 foreground=cfg.loss_foreground, trimap=cfg.loss_trimap, gradient=cfg.loss_gradient)
    return TrainSettings(steps=cfg.steps, learning_rate=cfg.learning_rate, recipe=recipe, weights=weights,
                         adversarial_weight=cfg.adversarial_weight, checkpoint_every=cfg.checkpoint_every, seed=ctx.base.seed)


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path], on_step=None) -> StageResult:
    samples = load_samples(inputs["relight"], inputs["lightstage"], inputs["trimaps"], "train")
    if not samples:
        raise DataError(f"{inputs['relight']}: no training samples")
    height = min(s.alpha.shape[0] for s in samples)
    if ctx.params.crop > height:
        raise DataError(f"{inputs['relight']}: images are {height} px, smaller than train_matting.crop = {ctx.params.crop}")
    params = {**flatten(ctx.base, "base"), **flatten(ctx.params, "train_matting")}
    data_hashes = {name: dvc_md5(path) for name, path in inputs.items()}
    torch.manual_seed(ctx.base.seed)
    model = ctx.params.model.build()
    model, history, resumed = train(model, samples, settings_from(ctx), ctx.work_dir or outputs["matting"],
                                    checkpoint.fingerprint(params, data_hashes), on_step)
    checkpoint.save(outputs["matting"] / MODEL_FILE, checkpoint.model_payload(model, params, data_hashes, steps=ctx.params.steps))
    curve = pd.DataFrame([{"step": step, **losses} for step, losses in history])
    tail = curve.tail(max(1, len(curve) // 10)).mean()
    metrics = {"parameters": sum(p.numel() for p in model.parameters()), "training_samples": len(samples),
               "steps": ctx.params.steps, "resumed_from_step": resumed,
               **{f"final_{name}": float(tail[name]) for name in curve.columns if name != "step"}}
    return StageResult(metrics=metrics, history=history, plot=curve)


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_matting", run, schema=TrainMattingParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
