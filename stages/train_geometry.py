"""Stage ``train_geometry``: the Geometry Net (foreground -> normals), first of the relighting module.

Writes a self-describing model file and the loss curve; an interrupted run
resumes from its last checkpoint when rerun with the same params and data.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch

from pipeline.models import checkpoint
from pipeline.relighting.chain import MODEL_FILE, RelightingChain
from pipeline.relighting.data import training_refs
from pipeline.relighting.training import GEOMETRY_FIELDS, fit_net, geometry_step, preview_grid, preview_samples, run_metrics
from pipeline.schema.train_geometry import TrainGeometryParams
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.training import Trainer, TrainSettings, run_identity, training_setup

INPUTS = ("relight", "lightstage", "lightmaps")
OUTPUTS = ("geometry",)


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg = ctx.params
    refs = training_refs(inputs["relight"], inputs["lightstage"], inputs["lightmaps"], cfg.crop)
    identity = run_identity(ctx.base, cfg, "train_geometry", inputs)
    torch.manual_seed(ctx.base.seed)
    net = cfg.model.build()
    settings = TrainSettings(cfg.steps, cfg.batch, cfg.checkpoint_every, ctx.base.seed, "geometry", ctx.execution.workers)
    trainer = Trainer(*training_setup("geometry", net, cfg.learning_rate, cfg.schedule), settings, ctx.execution.device,
                      averages={"geometry": cfg.ema_half_life})
    step = partial(geometry_step, l1=cfg.loss_l1, angular=cfg.loss_angular)
    work = ctx.work_dir or outputs["geometry"]
    result = fit_net(trainer, step, GEOMETRY_FIELDS, refs, cfg.crop, ctx.base.seed, work, identity.fingerprint, ctx.log_history,
                     early_crops=tuple(cfg.early_crops))
    net = trainer.trained("geometry")
    checkpoint.save(outputs["geometry"] / MODEL_FILE,
                    checkpoint.model_payload(net.cpu(), identity.params, identity.data_hashes, steps=cfg.steps))
    chain = RelightingChain(net)
    preview = preview_grid(preview_samples(result), lambda s: chain.predict_normals(s.image), lambda s: s.normals, "vectors")
    return StageResult(metrics=run_metrics({"geometry": net}, result, cfg.steps), plot=result.curve,
                       previews={"normals": preview})


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_geometry", run, schema=TrainGeometryParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
