"""Stage ``train_eg3d``: EG3D trained on the ``poses`` stage's dataset (``pipeline.gan3d.eg3d``).

Writes to ``data/models/eg3d`` (``pipeline.gan3d.snapshots``, as ``train_pigan`` does):
- ``generator.pt``: the EMA generator, self-describing (``pipeline.models.checkpoint``),
- ``snapshots/step0000200.pt``, ...: the EMA generator every ``snapshot_every`` steps and at
  the end, for the FID curve over training (``evaluate_gan``),
- ``grids/step0000200.png``, ...: samples at fixed seeds and cameras at each snapshot,
- ``turntable.mp4``: one head orbiting, the conditioning pose fixed (also in MLflow).

The history has each loss, the R1 penalty and the density regulariser where they ran, and
``kimg``; seconds per kimg go to MLflow only (timings would make the plot differ run to run).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch

from pipeline.gan3d.data import FaceSet, GanSamples
from pipeline.gan3d.eg3d import EG3DStep, eg3d_optimizers
from pipeline.gan3d.snapshots import finish, Previews, Snapshots
from pipeline.schema.train_eg3d import TrainEG3DParams
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.training import run_identity, Trainer, TrainSettings

INPUTS = ("dataset",)
OUTPUTS = ("model",)


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg, device, out = ctx.params, ctx.execution.device, outputs["model"]
    faces = FaceSet(inputs["dataset"], cfg.model.output_resolution, cfg.preload)
    identity = run_identity(ctx.base, cfg, "train_eg3d", inputs)
    torch.manual_seed(ctx.base.seed)
    generator, discriminator = cfg.model.build(), cfg.discriminator.build()
    settings = TrainSettings(cfg.steps, cfg.batch, cfg.checkpoint_every, ctx.base.seed, "eg3d", ctx.execution.workers,
                             cfg.precision)
    trainer = Trainer({"generator": generator, "discriminator": discriminator},
                      eg3d_optimizers(generator, discriminator, cfg.recipe), settings, device,
                      averages={"generator": partial(cfg.recipe.ema_half_life, batch=cfg.batch)})
    work = ctx.work_dir or out
    previews = Previews(cfg.grid_seeds, cfg.truncation, cfg.turntable_frames)
    trainer.fit(GanSamples(faces, cfg.model.z_dim, ctx.base.seed), EG3DStep(cfg.recipe, cfg.batch), work,
                identity.fingerprint, ctx.log_history,
                after_step=Snapshots(work, cfg.snapshot_every, previews, identity, ctx.log_history))
    return finish(trainer, identity, work, out, previews, images=len(faces))


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_eg3d", run, schema=TrainEG3DParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
