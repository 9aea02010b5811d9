"""A tiny GAN on the training engine: generator, discriminator, an EMA copy of the generator and a
lazy R1 penalty (every ``R1_EVERY`` steps, scaled by the interval as StyleGAN2 does). Real samples
are points of a ring; latents and real points come from each sample's keyed generator.

    python -m tests.tiny_gan OUT.pt [--steps N] [--batch B]

trains it (under torchrun too) and saves the final weights, for the data-parallel test.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from pipeline import distributed
from pipeline.training import BatchPhase, KeyedDataset, SampleKey, Schedule, Trainer, TrainSettings, adam

LATENT = 4
R1_EVERY = 4
R1_GAMMA = 1.0


class Ring(KeyedDataset):
    purpose = "tiny-gan"

    def item(self, rng: np.random.Generator, key: SampleKey):
        angle = rng.uniform(0, 2 * np.pi)
        real = np.array([np.cos(angle), np.sin(angle)]) * 2 + rng.normal(scale=0.05, size=2)
        return real.astype(np.float32), rng.normal(size=LATENT).astype(np.float32)

    def collate(self, items):
        return tuple(torch.from_numpy(np.stack(column)) for column in zip(*items))


def mlp(inputs: int, outputs: int) -> nn.Module:
    return nn.Sequential(nn.Linear(inputs, 16), nn.LeakyReLU(0.2), nn.Linear(16, 16), nn.LeakyReLU(0.2), nn.Linear(16, outputs))


def gan_step(trainer: Trainer, batch) -> dict[str, float]:
    real, z = batch  # (B, 2), (B, LATENT)
    generator, discriminator = trainer.modules["generator"], trainer.modules["discriminator"]
    fake = generator(z)
    losses = {"d": F.softplus(discriminator(fake.detach())).mean() + F.softplus(-discriminator(real)).mean()}
    if trainer.due(R1_EVERY):  # lazy R1 on the reals, weighted by the interval
        real = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(discriminator(real).sum(), real, create_graph=True)
        losses["r1"] = grad.square().sum(1).mean()
        losses["d"] = losses["d"] + R1_GAMMA / 2 * R1_EVERY * losses["r1"]
    trainer.descend("discriminator", losses["d"])
    losses["g"] = F.softplus(-discriminator(fake)).mean()
    trainer.descend("generator", losses["g"])
    losses["total"] = losses["d"] + losses["g"]
    return {k: float(v.detach()) for k, v in losses.items()}


def new_trainer(steps: int, batch: int = 8, checkpoint_every: int = 5, workers: int = 0, device: str = "cpu",
                batch_phases: tuple[BatchPhase, ...] = ()) -> Trainer:
    torch.manual_seed(0)
    generator, discriminator = mlp(LATENT, 2), mlp(2, 1)
    optimizers = {"generator": adam(generator, 2e-3, (0.0, 0.99), Schedule("constant", warmup=3)),
                  "discriminator": adam(discriminator, 2e-3, (0.0, 0.99), Schedule("cosine"))}
    return Trainer({"generator": generator, "discriminator": discriminator}, optimizers,
                   TrainSettings(steps=steps, batch=batch, checkpoint_every=checkpoint_every, seed=0, name="tiny gan",
                                 workers=workers, batch_phases=batch_phases),
                   device, averages={"generator": 3.0})


def weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    named = {f"{m}.{k}": v for m, module in trainer.modules.items() for k, v in module.state_dict().items()}
    named.update({f"ema.{k}": v for k, v in trainer.averages["generator"].state_dict().items()})
    return named


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    distributed.init("cpu")
    trainer = new_trainer(args.steps, args.batch)
    work = args.out.with_suffix(".work")
    trainer.fit(Ring(seed=0), gan_step, work, "tag")
    if distributed.is_main():
        torch.save(weights(trainer), args.out)
    distributed.shutdown()


if __name__ == "__main__":
    main()
