"""Stage ``train_matting``: the matting network on re-composited training views.

Writes a self-describing model file (weights, architecture, resolved params,
data hashes) and the loss curve; an interrupted run resumes from its last
checkpoint when rerun with the same params and data.
"""

from __future__ import annotations

from pathlib import Path

import torch

from pipeline import DataError
from pipeline.io.arrays import load_array
from pipeline.matting.data import BatchRecipe, MattingCrops, matting_refs
from pipeline.matting.training import CRITIC, MattingObjective
from pipeline.models import checkpoint
from pipeline.schema.train_matting import TrainMattingParams
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.training import Trainer, TrainSettings, history_summary, run_identity, training_setup

INPUTS = ("relight", "lightstage", "trimaps")
OUTPUTS = ("matting",)
MODEL_FILE = "model.pt"


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg = ctx.params
    refs = matting_refs(inputs["relight"], inputs["lightstage"], inputs["trimaps"], "train")
    if not refs:
        raise DataError(f"{inputs['relight']}: no training samples")
    height = min(load_array(ref.alpha).shape[0] for ref in refs)
    if cfg.crop > height:
        raise DataError(f"{inputs['relight']}: images are {height} px, smaller than train_matting.crop = {cfg.crop}")
    recipe = BatchRecipe(batch=cfg.batch, crop=cfg.crop, band_fraction=tuple(cfg.band_fraction),
                         coarse_share=cfg.coarse_share, texture_share=cfg.texture_share, clutter_share=cfg.clutter_share,
                         early_crops=tuple(cfg.early_crops))
    identity = run_identity(ctx.base, cfg, "train_matting", inputs)
    torch.manual_seed(ctx.base.seed)
    model = cfg.model.build()
    critic = CRITIC.build() if cfg.adversarial_weight > 0 else None
    modules, optimizers = training_setup("matting", model, cfg.learning_rate, cfg.schedule, critic)
    settings = TrainSettings(cfg.steps, cfg.batch, cfg.checkpoint_every, ctx.base.seed, "matting", ctx.execution.workers,
                             cfg.precision)
    trainer = Trainer(modules, optimizers, settings, ctx.execution.device, averages={"matting": cfg.ema_half_life})
    work = ctx.work_dir or outputs["matting"]
    resumed = trainer.fit(MattingCrops(refs, recipe, ctx.base.seed), MattingObjective.from_params(cfg), work, identity.fingerprint, ctx.log_history)
    checkpoint.save(outputs["matting"] / MODEL_FILE,
                    checkpoint.model_payload(trainer.trained("matting").cpu(), identity.params, identity.data_hashes, steps=cfg.steps))
    curve, finals = history_summary(work)
    metrics = {"parameters": sum(p.numel() for p in model.parameters()), "training_samples": len(refs),
               "steps": cfg.steps, "pixel_share": recipe.crops.pixel_share(cfg.steps), "resumed_from_step": resumed, **finals}
    return StageResult(metrics=metrics, plot=curve)


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_matting", run, schema=TrainMattingParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
