"""What a 3D-aware GAN's training stage writes besides its weights, the same for every generator
(EG3D, pi-GAN): snapshots of the EMA generator with sample grids while it trains (the FID curve
over training scores them), then the final generator, its turntable and its previews.

Images seen are counted by the engine's sample layout (``TrainSettings.first_sample``), so a
curriculum whose batch changes by phase counts its kimg right.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from pipeline import distributed
from pipeline.gan3d.sample import sample_grid, turntable
from pipeline.io.arrays import save_png
from pipeline.io.sheet import grid
from pipeline.io.video import write_video
from pipeline.models import checkpoint
from pipeline.stage import StageResult
from pipeline.training import history_summary, RunIdentity, Trainer

MODEL_FILE = "generator.pt"
TURNTABLE = "turntable.mp4"
TURNTABLE_SEED = 0
PREVIEW_SCALE = 2  # pixels repeated, for people looking at 64-pixel heads


@dataclass(frozen=True)
class Previews:
    """How a stage shows its generator: ``grid_seeds`` rows of five yaws, a turntable of ``frames``."""

    grid_seeds: int
    truncation: float
    frames: int


def kimg(trainer: Trainer, step: int) -> float:
    """Thousands of real images the discriminator has seen after ``step`` steps."""
    return trainer.settings.first_sample(step) / 1000


class Snapshots:
    """``after_step`` for the engine: every ``every`` steps and at the last, on the main process,
    the EMA generator to ``work/snapshots`` and a sample grid to ``work/grids``; kimg and seconds
    per kimg since the last snapshot (or the run's start) to ``log_history`` (MLflow)."""

    def __init__(self, work: Path, every: int, previews: Previews, identity: RunIdentity,
                 log_history: Callable | None):
        self.work, self.every, self.previews, self.identity, self.log_history = work, every, previews, identity, log_history
        self.started, self.last = time.perf_counter(), None  # last: (seconds, kimg) of the last snapshot

    def __call__(self, trainer: Trainer) -> None:
        step, steps = trainer.step, trainer.settings.steps
        if self.last is None:  # the run's first step, fresh or resumed
            self.last = (self.started, kimg(trainer, step - 1))
        if not distributed.is_main() or (step % self.every and step != steps):
            return
        ema, seen = trainer.trained("generator"), kimg(trainer, step)
        name = f"step{step:07d}"
        checkpoint.save(self.work / "snapshots" / f"{name}.pt",
                        checkpoint.model_payload(ema, self.identity.params, self.identity.data_hashes, step=step, kimg=seen))
        save_png(self.work / "grids" / f"{name}.png", sample_grid(ema, list(range(self.previews.grid_seeds)),
                                                                   truncation=self.previews.truncation, scale=PREVIEW_SCALE))
        now = time.perf_counter()
        if self.log_history is not None:
            self.log_history([(step, {"kimg": seen, "sec_per_kimg": (now - self.last[0]) / max(seen - self.last[1], 1e-9)})])
        self.last = (now, seen)


def finish(trainer: Trainer, identity: RunIdentity, work: Path, out: Path, previews: Previews, images: int
           ) -> StageResult:
    """After training: the EMA generator to ``out/generator.pt`` (self-describing), the snapshots
    and grids copied from ``work`` (rank 0's), a turntable video; and what the stage returns: the
    loss curve (with kimg), its tail, kimg, ``images`` (the data set's size) and both networks'
    parameter counts as metrics, the sample grid and turntable as previews, the turntable video."""
    steps = trainer.settings.steps
    final = trainer.trained("generator").cpu()
    seen = kimg(trainer, steps)
    checkpoint.save(out / MODEL_FILE, checkpoint.model_payload(final, identity.params, identity.data_hashes, step=steps,
                                                                kimg=seen))
    if work != out and distributed.is_main():  # rank 0 wrote them; other ranks' outputs are thrown away
        for folder in ("snapshots", "grids"):
            shutil.copytree(work / folder, out / folder)
    frames = turntable(final, TURNTABLE_SEED, previews.frames, truncation=previews.truncation)
    write_video(out / TURNTABLE, frames, scale=PREVIEW_SCALE)
    curve, tail = history_summary(work)
    if len(curve):
        curve = curve.assign(kimg=[kimg(trainer, int(step)) for step in curve["step"]])
    sheet = grid([list(frames[:: max(1, len(frames) // 8)][:8])])
    samples = sample_grid(final, list(range(previews.grid_seeds)), truncation=previews.truncation, scale=PREVIEW_SCALE)
    metrics = {**tail, "kimg": seen, "images": images,
               **{f"{name}_parameters": parameter_count(trainer.modules[name]) for name in ("generator", "discriminator")}}
    return StageResult(metrics=metrics, plot=curve, previews={"samples": samples, "turntable": sheet},
                       videos={"turntable": frames.repeat(PREVIEW_SCALE, axis=1).repeat(PREVIEW_SCALE, axis=2)})


def parameter_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
