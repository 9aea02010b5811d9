"""Every training stage's nets, step and a batch of random data of its profile's size, built as
the stage builds them (``cfg.model.build()``, the stage's critic, the stage's step function).

For what needs a stage's training step without its data: ``benchmarks/training.py`` times them,
``tests/test_devices.py`` checks that CUDA computes what the CPU computes.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, NamedTuple

import torch

from pipeline.matting.training import CRITIC as MATTING_CRITIC
from pipeline.matting.training import MattingObjective
from pipeline.models.matting import MattingBatch
from pipeline.models.relighting import LIGHT_MAPS
from pipeline.relighting.data import RelightBatch
from pipeline.relighting.training import ShadingWeights, albedo_step, geometry_step, shading_critic, shading_step
from pipeline.training import Optimization, training_setup

TRAINING_STAGES = ("train_matting", "train_geometry", "train_albedo", "train_shading")


class Case(NamedTuple):
    """One training stage: its params section, its nets and their optimisers by name (the net's and
    the critic's, as ``training_setup`` makes them for the stage), its step and a batch."""

    name: str
    cfg: Any  # the stage's params section
    modules: dict[str, torch.nn.Module]
    optimizers: dict[str, Optimization]
    step: Callable
    batch: Any


def random_matting_batch(batch: int, crop: int, generator: torch.Generator | None = None) -> MattingBatch:
    def image(channels: int) -> torch.Tensor:
        return torch.rand(batch, channels, crop, crop, generator=generator)

    true_trimap = torch.randint(0, 3, (batch, crop, crop), generator=generator)
    return MattingBatch(image=image(3), trimap=torch.nn.functional.one_hot(true_trimap, 3).permute(0, 3, 1, 2).float(),
                        unknown=image(1).round(), alpha=image(1), foreground=image(3), background=image(3),
                        true_trimap=true_trimap, guidance=image(8), mix=torch.rand(batch, generator=generator))


def random_relight_batch(batch: int, crop: int, generator: torch.Generator | None = None) -> RelightBatch:
    def image(channels: int) -> torch.Tensor:
        return torch.rand(batch, channels, crop, crop, generator=generator)

    normals = torch.nn.functional.normalize(image(3) - 0.5, dim=1)
    return RelightBatch(image=image(3), alpha=image(1), normals=normals, albedo=image(3), target=image(3),
                        diffuse=image(3), specular=torch.rand(batch, LIGHT_MAPS, 3, crop, crop, generator=generator),
                        mix=torch.rand(batch, generator=generator))


def stage_cases(params, crop: int | None = None, batch: int | None = None, seed: int = 0) -> list[Case]:
    """A ``Case`` for every training stage of ``params`` (a profile-resolved ``Params``), on random
    batches of the profile's batch and crop, or of ``batch`` and ``crop`` where given."""
    torch.manual_seed(seed)  # the nets' initial weights
    generator = torch.Generator().manual_seed(seed)
    matting, geometry, albedo, shading = (params.section(n) for n in TRAINING_STAGES)

    def setup(name: str, cfg, critic=None) -> tuple[dict, dict]:
        critic = critic.build() if critic is not None and cfg.adversarial_weight > 0 else None
        return training_setup(name, cfg.model.build(), cfg.learning_rate, cfg.schedule, critic)

    weights = ShadingWeights.from_params(shading)

    def relight(cfg) -> RelightBatch:
        return random_relight_batch(batch or cfg.batch, crop or cfg.crop, generator)

    return [
        Case("train_matting", matting, *setup("matting", matting, MATTING_CRITIC), MattingObjective.from_params(matting),
             random_matting_batch(batch or matting.batch, crop or matting.crop, generator)),
        Case("train_geometry", geometry, *setup("geometry", geometry),
             partial(geometry_step, l1=geometry.loss_l1, angular=geometry.loss_angular), relight(geometry)),
        Case("train_albedo", albedo, *setup("albedo", albedo),
             partial(albedo_step, l1=albedo.loss_l1, gradient=albedo.loss_gradient), relight(albedo)),
        Case("train_shading", shading, *setup("shading", shading, shading_critic(shading.critic_widths)),
             partial(shading_step, weights=weights), relight(shading)),
    ]
