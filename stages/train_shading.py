"""Stage ``train_shading``: Specular Net and Neural Renderer, trained together, last.

``train_shading.intrinsics`` chooses the normals and albedo they train on:
``predicted`` (the trained Geometry and Albedo Nets', with light maps looked up
at the predicted normals: what the chain feeds at inference; the default) or
``true``. The relit foreground is matched with L1, a specular-weighted L1, a
multi-scale gradient L1 (stand-in for the perceptual term) and, when
``adversarial_weight`` > 0, a WGAN-GP critic.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch

from pipeline.io.sheet import grid, label, to_picture
from pipeline.models import checkpoint
from pipeline.relighting.chain import MODEL_FILE, RelightingChain
from pipeline.relighting.data import training_refs
from pipeline.relighting.training import (SHADING_FIELDS, ShadingWeights, fit_net, preview_samples, run_metrics, shading_critic,
                                          shading_step)
from pipeline.schema.train_shading import TrainShadingParams
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.training import Trainer, TrainSettings, run_identity, training_setup

INPUTS = ("relight", "lightstage", "lightmaps", "geometry", "albedo")
OUTPUTS = ("shading",)


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg, device = ctx.params, ctx.execution.device
    refs = training_refs(inputs["relight"], inputs["lightstage"], inputs["lightmaps"], cfg.crop)
    chain = RelightingChain.load(inputs["geometry"], inputs["albedo"], device=device)
    identity = run_identity(ctx.base, cfg, "train_shading", inputs)
    torch.manual_seed(ctx.base.seed)
    net = cfg.model.build()
    critic = shading_critic(cfg.critic_widths).build() if cfg.adversarial_weight > 0 else None
    modules, optimizers = training_setup("shading", net, cfg.learning_rate, cfg.schedule, critic)
    settings = TrainSettings(cfg.steps, cfg.batch, cfg.checkpoint_every, ctx.base.seed, "shading", ctx.execution.workers)
    trainer = Trainer(modules, optimizers, settings, device, averages={"shading": cfg.ema_half_life})
    weights = ShadingWeights.from_params(cfg)
    work = ctx.work_dir or outputs["shading"]
    predicted = chain if cfg.intrinsics == "predicted" else None
    result = fit_net(trainer, partial(shading_step, weights=weights), SHADING_FIELDS, refs, cfg.crop, ctx.base.seed, work,
                     identity.fingerprint, ctx.log_history, predicted, light_maps=True, early_crops=tuple(cfg.early_crops))
    net = trainer.trained("shading")
    checkpoint.save(outputs["shading"] / MODEL_FILE,
                    checkpoint.model_payload(net.cpu(), identity.params, identity.data_hashes, steps=cfg.steps))
    chain, preview = RelightingChain(chain.geometry.cpu(), chain.albedo.cpu(), net), []
    for s in preview_samples(result):
        relit = chain.shade(s.image, s.alpha, s.normals, s.albedo, s.camera, s.environment).relit
        preview.append([label(to_picture(s.image, "scalar"), s.name[:16]), label(to_picture(relit, exposure=s.exposure), "relit"),
                        label(to_picture(s.target, exposure=s.exposure / s.scale), "true")])
    return StageResult(metrics=run_metrics(modules, result, cfg.steps), plot=result.curve, previews={"relit": grid(preview)})


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_shading", run, schema=TrainShadingParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
