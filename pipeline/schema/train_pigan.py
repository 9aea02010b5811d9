"""Section ``train_pigan``: pi-GAN's networks and how they are trained (stage ``train_pigan``)."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from pipeline.gan3d.pigan import PiganConfig
from pipeline.gan3d.pigan_discriminator import PiganDiscriminatorConfig
from pipeline.gan3d.pigan_training import PiganRecipe
from pipeline.schema.base import check_whole_numbers
from pipeline.schema.gan import GanTrainParams


class TrainPiganParams(GanTrainParams):
    model: PiganConfig = Field(description="the generator: mapping {z_dim, hidden, hidden_layers, layers, width}, "
                               "field {layers, width, box_warp, init}, volume {near, far, coarse_samples, fine_samples} "
                               "and resolution: the side and samples of pictures for people and evaluate_gan")
    discriminator: PiganDiscriminatorConfig = Field(description="max_resolution (the curriculum's largest), channel_base, "
                                                    "channel_max, pose_head")
    recipe: PiganRecipe = Field(description="curriculum [{steps, resolution, batch, generator_rate, discriminator_rate, "
                                "samples_per_ray, fade_steps}] (the last phase holds to the end), r1_gamma, r1_every, "
                                "pose_weight, gradient_clip, density_noise and its steps, topk_interval, topk_min, "
                                "ema_half_life (steps), camera_prior ([yaw, pitch] standard deviations in radians: "
                                "fakes seen from a Gaussian prior about the front, as pi-GAN trains without poses; "
                                "null: from the dataset's cameras)")

    @model_validator(mode="after")
    def _consistent(self) -> TrainPiganParams:
        check_whole_numbers(self.model, "model")
        check_whole_numbers(self.discriminator, "discriminator")
        recipe, sides = self.recipe, self.discriminator.resolutions
        if not recipe.curriculum:
            raise ValueError("recipe.curriculum: at least one phase")
        for k, phase in enumerate(recipe.curriculum):
            key = f"recipe.curriculum[{k}]"
            if phase.resolution not in sides:
                raise ValueError(f"{key}.resolution ({phase.resolution}) must be one the discriminator takes: {sides}")
            if min(phase.steps, phase.batch, phase.samples_per_ray) < 1 or phase.fade_steps < 0:
                raise ValueError(f"{key}: steps, batch and samples_per_ray must be at least 1, fade_steps at least 0")
            if min(phase.generator_rate, phase.discriminator_rate) <= 0:
                raise ValueError(f"{key}: the rates must be positive")
        if sum(phase.steps for phase in recipe.curriculum[:-1]) >= self.steps:
            raise ValueError("recipe.curriculum: the phases before the last must end before steps")
        if recipe.r1_every < 1:
            raise ValueError("recipe.r1_every must be at least 1")
        if not 0 < recipe.topk_min <= 1:
            raise ValueError(f"recipe.topk_min must be in (0, 1] (got {recipe.topk_min})")
        if recipe.camera_prior is not None and not all(0 < v < math.pi / 2 for v in recipe.camera_prior):
            raise ValueError(f"recipe.camera_prior ({list(recipe.camera_prior)}) must be two standard deviations "
                             f"in (0, pi/2) radians, yaw then pitch (pi-GAN's CelebA: [0.3, 0.155])")
        return self


SCHEMA = TrainPiganParams
