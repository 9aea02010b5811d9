"""Seconds per training step of a profile's ``train_pigan``, phase by phase of its curriculum, the
whole run's estimate, and the pictures per second of the rendering ``evaluate_gan`` and the
sample grids use (``views`` at ``model.resolution``).

    .venv/bin/python benchmarks/pigan.py [--profile default] [--repeats 2] [--device cuda] [--threads 2]

Each phase is timed at a step inside it (its fade-in under way where it has one), over
``repeats`` times its R1 interval, so lazy R1 steps count at their share.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from timing import median_seconds

from pipeline.config import load_params
from pipeline.device import add_options, configure_from
from pipeline.gan3d.data import GanBatch
from pipeline.gan3d.pigan_training import pigan_optimizers, PiganStep
from pipeline.gan3d.sample import cameras
from pipeline.training import Trainer, TrainSettings


def phase_seconds(cfg, device: str, first: int, batch: int, steps: int) -> float:
    """Seconds per step of ``steps`` steps from step ``first`` (a batch of ``batch`` reals)."""
    torch.manual_seed(0)
    generator, discriminator = cfg.model.build(), cfg.discriminator.build()
    trainer = Trainer({"generator": generator, "discriminator": discriminator},
                      pigan_optimizers(generator, discriminator, cfg.recipe),
                      TrainSettings(first + steps + 1, batch, first + steps + 1, 0, "pigan"), device,
                      averages={"generator": cfg.recipe.ema_half_life})
    labels = cameras(list(np.linspace(-20.0, 20.0, batch)))
    side = max(phase.resolution for phase in cfg.recipe.curriculum)
    data = GanBatch(torch.rand(batch, 3, side, side) * 2 - 1, labels, torch.randn(batch, cfg.model.mapping.z_dim),
                    labels, labels.flip(0), torch.rand(batch))
    step = PiganStep(cfg.recipe)
    for module in trainer.modules.values():
        module.train()
    trainer.step = first
    step(trainer, trainer.place(data))  # warm-up
    start = time.perf_counter()
    for trainer.step in range(first, first + steps):
        step(trainer, trainer.place(data))
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--repeats", type=int, default=2, help="R1 intervals timed per phase")
    args = parser.parse_args()
    device = configure_from(args.device, args.threads).device
    cfg = load_params(Path(__file__).resolve().parents[1] / "params.yaml", profile=args.profile).section("train_pigan")
    recipe, start, total = cfg.recipe, 0, 0.0
    for k, phase in enumerate(recipe.curriculum):
        last = k == len(recipe.curriculum) - 1
        length = cfg.steps - start if last else phase.steps
        inside = start + min(phase.fade_steps // 2, max(length - 1, 0))
        seconds = phase_seconds(cfg, device, inside, phase.batch, args.repeats * recipe.r1_every)
        total += seconds * length
        print(f"phase {k}: {phase.resolution} px, batch {phase.batch}, {phase.samples_per_ray} + {phase.samples_per_ray} "
              f"samples: {seconds:.3f} s per step, {length} steps: {seconds * length / 60:.1f} min")
        start += phase.steps
    print(f"train_pigan ({args.profile}): {cfg.steps} steps, about {total / 60:.1f} min of training on {device}")
    torch.manual_seed(0)
    generator = cfg.model.build().to(device).eval()
    views = cameras([0.0] * 8).to(device)
    z = torch.randn(8, cfg.model.mapping.z_dim, device=device)
    seconds = median_seconds(lambda: generator.views(z, views), repeats=3)
    print(f"views at {cfg.model.resolution} px ({cfg.model.volume.coarse_samples} + {cfg.model.volume.fine_samples} "
          f"samples): {8 / seconds:.1f} pictures per second")


if __name__ == "__main__":
    main()
