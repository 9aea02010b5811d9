"""Stage ``train_eg3d``: EG3D trained on the ``poses`` stage's dataset (``pipeline.gan3d.eg3d``).

Writes to ``data/models/eg3d``:
- ``generator.pt``: the EMA generator, self-describing (``pipeline.models.checkpoint``),
- ``snapshots/step0000200.pt``, ...: the EMA generator every ``snapshot_every`` steps and at
  the end, for the FID curve over training (``evaluate_gan``),
- ``grids/step0000200.png``, ...: samples at fixed seeds and cameras at each snapshot,
- ``turntable.mp4``: one head orbiting, the conditioning pose fixed (also in MLflow).

The history has each loss, the R1 penalty and the density regulariser where they ran, and
``kimg``; seconds per kimg go to MLflow only (timings would make the plot differ run to run).
"""

from __future__ import annotations

import shutil
import time
from functools import partial
from pathlib import Path

import torch

from pipeline import distributed
from pipeline.gan3d.data import FaceSet, GanSamples
from pipeline.gan3d.eg3d import EG3DStep, eg3d_optimizers
from pipeline.gan3d.sample import sample_grid, turntable
from pipeline.io.arrays import save_png
from pipeline.io.sheet import grid
from pipeline.io.video import write_video
from pipeline.models import checkpoint
from pipeline.schema.train_eg3d import TrainEG3DParams
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.training import history_summary, Trainer, TrainSettings, run_identity

INPUTS = ("dataset",)
OUTPUTS = ("model",)
MODEL_FILE = "generator.pt"
TURNTABLE = "turntable.mp4"
TURNTABLE_SEED = 0
PREVIEW_SCALE = 2  # pixels repeated, for people looking at 64-pixel heads


class Snapshots:
    """``after_step`` for the engine: every ``every`` steps and at the last, on the main process,
    the EMA generator to ``work/snapshots`` and a sample grid to ``work/grids``; kimg and seconds
    per kimg since the last snapshot (or the run's start) to MLflow."""

    def __init__(self, work: Path, cfg: TrainEG3DParams, identity, log_history):
        self.work, self.cfg, self.identity, self.log_history = work, cfg, identity, log_history
        self.started, self.last = time.perf_counter(), None  # last: (seconds, kimg) of the last snapshot

    def __call__(self, trainer: Trainer) -> None:
        step, cfg = trainer.step, self.cfg
        kimg = step * cfg.batch / 1000
        if self.last is None:  # the run's first step, fresh or resumed
            self.last = (self.started, (step - 1) * cfg.batch / 1000)
        if not distributed.is_main() or (step % cfg.snapshot_every and step != cfg.steps):
            return
        ema = trainer.trained("generator")
        name = f"step{step:07d}"
        checkpoint.save(self.work / "snapshots" / f"{name}.pt",
                        checkpoint.model_payload(ema, self.identity.params, self.identity.data_hashes, step=step, kimg=kimg))
        save_png(self.work / "grids" / f"{name}.png", sample_grid(ema, list(range(cfg.grid_seeds)),
                                                                   truncation=cfg.truncation, scale=PREVIEW_SCALE))
        now = time.perf_counter()
        self.log_history([(step, {"kimg": kimg, "sec_per_kimg": (now - self.last[0]) / (kimg - self.last[1])})])
        self.last = (now, kimg)


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
    trainer.fit(GanSamples(faces, cfg.model.z_dim, ctx.base.seed), EG3DStep(cfg.recipe, cfg.batch), work,
                identity.fingerprint, ctx.log_history, after_step=Snapshots(work, cfg, identity, ctx.log_history))
    final = trainer.trained("generator").cpu()
    checkpoint.save(out / MODEL_FILE, checkpoint.model_payload(final, identity.params, identity.data_hashes,
                                                                step=cfg.steps, kimg=cfg.steps * cfg.batch / 1000))
    if work != out and distributed.is_main():  # rank 0 wrote them; other ranks' outputs are thrown away
        for folder in ("snapshots", "grids"):
            shutil.copytree(work / folder, out / folder)
    frames = turntable(final, TURNTABLE_SEED, cfg.turntable_frames, truncation=cfg.truncation)
    write_video(out / TURNTABLE, frames, scale=PREVIEW_SCALE)
    curve, tail = history_summary(work)
    curve = curve.assign(kimg=curve["step"] * cfg.batch / 1000)
    sheet = grid([list(frames[:: max(1, len(frames) // 8)][:8])])
    metrics = {**tail, "kimg": cfg.steps * cfg.batch / 1000, "images": len(faces),
               "generator_parameters": sum(p.numel() for p in generator.parameters()),
               "discriminator_parameters": sum(p.numel() for p in discriminator.parameters())}
    grid_picture = sample_grid(final, list(range(cfg.grid_seeds)), truncation=cfg.truncation, scale=PREVIEW_SCALE)
    return StageResult(metrics=metrics, plot=curve, previews={"samples": grid_picture, "turntable": sheet},
                       videos={"turntable": frames.repeat(PREVIEW_SCALE, axis=1).repeat(PREVIEW_SCALE, axis=2)})


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_eg3d", run, schema=TrainEG3DParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
