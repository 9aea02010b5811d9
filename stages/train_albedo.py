"""Stage ``train_albedo``: the Albedo Net (foreground + normals -> albedo), after the Geometry Net.

``train_albedo.normals`` chooses the normals it trains on: ``predicted`` (the
trained Geometry Net's, what it is fed at inference; the default) or ``true``.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch

from pipeline.models import checkpoint
from pipeline.relighting.chain import MODEL_FILE, RelightingChain
from pipeline.relighting.data import training_refs
from pipeline.relighting.training import ALBEDO_FIELDS, albedo_step, fit_net, preview_grid, preview_samples, run_metrics
from pipeline.schema.train_albedo import TrainAlbedoParams
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.training import Trainer, TrainSettings, run_identity, training_setup

INPUTS = ("relight", "lightstage", "lightmaps", "geometry")
OUTPUTS = ("albedo",)


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg, device = ctx.params, ctx.execution.device
    refs = training_refs(inputs["relight"], inputs["lightstage"], inputs["lightmaps"], cfg.crop)
    geometry = RelightingChain.load(inputs["geometry"], device=device).geometry
    identity = run_identity(ctx.base, cfg, "train_albedo", inputs)
    torch.manual_seed(ctx.base.seed)
    net = cfg.model.build()
    settings = TrainSettings(cfg.steps, cfg.batch, cfg.checkpoint_every, ctx.base.seed, "albedo", ctx.execution.workers)
    trainer = Trainer(*training_setup("albedo", net, cfg.learning_rate, cfg.schedule), settings, device,
                      averages={"albedo": cfg.ema_half_life})
    step = partial(albedo_step, l1=cfg.loss_l1, gradient=cfg.loss_gradient)
    work = ctx.work_dir or outputs["albedo"]
    chain = RelightingChain(geometry) if cfg.normals == "predicted" else None
    result = fit_net(trainer, step, ALBEDO_FIELDS, refs, cfg.crop, ctx.base.seed, work, identity.fingerprint, ctx.log_history,
                     chain, early_crops=tuple(cfg.early_crops))
    net = trainer.trained("albedo")
    checkpoint.save(outputs["albedo"] / MODEL_FILE,
                    checkpoint.model_payload(net.cpu(), identity.params, identity.data_hashes, steps=cfg.steps))
    chain = RelightingChain(geometry.cpu(), net)
    preview = preview_grid(preview_samples(result), lambda s: chain.predict_albedo(s.image, s.normals), lambda s: s.albedo, "scalar")
    return StageResult(metrics=run_metrics({"albedo": net}, result, cfg.steps), plot=result.curve, previews={"albedo": preview})


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_albedo", run, schema=TrainAlbedoParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
