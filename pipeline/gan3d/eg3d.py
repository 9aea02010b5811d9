"""EG3D's training recipe on the engine (Chan et al. 2022; ``reference/SYSTEMS.md``, section 3).

One step: the discriminator's logistic loss on real images and on the generator's fakes
(lazy R1 on both halves of the real dual input every ``r1_every`` steps), then the
generator's non-saturating loss through the updated discriminator, reusing the same
forward pass of the generator (StyleGAN2 runs it twice; on a CPU one pass is a third
of the step saved), then the optional density regulariser every ``density_every`` steps;
the engine then updates the EMA generator (its half-life ``EG3DRecipe.ema_half_life``).

- Generator pose conditioning: the conditioning camera is swapped for another dataset
  camera with a probability that ramps from 1 to ``swap_probability`` over ``swap_fade_steps``.
- The images the discriminator sees are blurred by a Gaussian fading from ``blur_sigma``
  to 0 over ``blur_fade_steps`` (EG3D's, on the super-resolved image only), and augmented
  (``pipeline.gan3d.augment``) when ``augment`` names policies.
- The real "raw" image is the real image brought down to the rendering resolution, as EG3D
  makes it; the rendering resolution follows ``rendering`` (phases of (steps, resolution),
  then the config's ``neural_resolution``): EG3D's 64 then 128.
- Lazy regularisers are scaled by their interval, and their optimiser's rate and betas
  adjusted by interval / (interval + 1), as StyleGAN2 does.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from pipeline.gan3d.augment import augment, Policy
from pipeline.gan3d.data import GanBatch
from pipeline.models.eg3d import DualDiscriminator, EG3DGenerator
from pipeline.nn.gan import blur_images, discriminator_loss, fading_blur_sigma, generator_loss, r1_penalty
from pipeline.training import Optimization, phase_at, Schedule, Trainer

GAN_BETAS = (0.0, 0.99)  # StyleGAN2's and EG3D's Adam


@dataclass(frozen=True)
class RenderPhase:
    """``steps`` steps rendered at ``resolution`` rays per side before the next phase."""

    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    steps: int
    resolution: int


@dataclass(frozen=True)
class EG3DRecipe:
    """How EG3D trains: the published values for FFHQ in comments."""

    __pydantic_config__ = {"strict": False, "extra": "forbid"}

    generator_rate: float = 0.0025
    discriminator_rate: float = 0.002
    r1_gamma: float = 1.0  # FFHQ 1; larger for small batches and datasets
    r1_every: int = 16
    blur_sigma: float = 10.0  # pixels at the output resolution
    blur_fade_steps: int = 6250  # EG3D: 200 kimg at batch 32
    swap_probability: float = 0.5  # gpc_reg_prob
    swap_fade_steps: int = 31250  # EG3D: 1000 kimg at batch 32
    density_weight: float = 0.25  # 0: off
    density_every: int = 4
    density_offset: float = 0.004  # world units between the two points compared
    density_points: int = 1000
    augment: tuple[Policy, ...] = ()  # EG3D trains FFHQ without; small sets want ("color", "translation", "cutout")
    ema_half_life_images: float = 10_000.0  # EG3D: 10 kimg at batch 32
    ema_rampup: float = 0.05  # the half-life is at most this share of the images seen so far (None-like at 0)
    rendering: tuple[RenderPhase, ...] = ()  # early phases, then the config's neural_resolution

    def resolution_at(self, step: int, final: int) -> int:
        phase = phase_at(self.rendering, step).phase
        return final if phase is None else phase.resolution

    def swap_probability_at(self, step: int) -> float:
        ramp = min(step / self.swap_fade_steps, 1.0) if self.swap_fade_steps > 0 else 1.0
        return (1.0 - ramp) + ramp * self.swap_probability

    def ema_half_life(self, step: int, batch: int) -> float:
        """The EMA generator's half-life in steps at step ``step`` of ``batch`` images."""
        images = self.ema_half_life_images
        if self.ema_rampup > 0:
            images = min(images, (step + 1) * batch * self.ema_rampup)
        return images / batch


def lazy_adam(module: torch.nn.Module, rate: float, every: int) -> Optimization:
    """Adam with StyleGAN2's betas, its rate and betas adjusted for a regulariser every ``every``
    steps (0: none), so the regularised steps do not change the effective rate."""
    ratio = every / (every + 1) if every > 0 else 1.0
    betas = (GAN_BETAS[0] ** ratio, GAN_BETAS[1] ** ratio)
    optimizer = torch.optim.Adam(module.parameters(), rate * ratio, betas=betas, eps=1e-8, fused=True)
    return Optimization(optimizer, Schedule(kind="constant"))


def eg3d_optimizers(generator: EG3DGenerator, discriminator: DualDiscriminator, recipe: EG3DRecipe
                    ) -> dict[str, Optimization]:
    density_every = recipe.density_every if recipe.density_weight > 0 else 0
    r1_every = recipe.r1_every if recipe.r1_gamma > 0 else 0
    return {"generator": lazy_adam(generator, recipe.generator_rate, density_every),
            "discriminator": lazy_adam(discriminator, recipe.discriminator_rate, r1_every)}


def density_smoothness(generator: EG3DGenerator, z: torch.Tensor, conditioning: torch.Tensor, points: int,
                       offset: float) -> torch.Tensor:
    """EG3D's density regulariser: the mean L1 difference of raw density between random points of
    the planes' box and the same points moved by Gaussian noise of ``offset``. (EG3D draws the
    points in [-1, 1]^3, mostly outside its box of side 1, where the planes read zeros; here they
    are drawn inside the box, where the planes are.)"""
    ws = generator.mapping(z, conditioning)
    planes = generator.planes(ws)
    half = generator.config.triplane.box_warp / 2
    where = (torch.rand(z.shape[0], points, 3, device=z.device) * 2 - 1) * half
    moved = where + torch.randn_like(where) * offset
    both = torch.cat([where, moved], dim=1)
    density = generator.field(both, torch.zeros_like(both), planes).raw_density
    return (density[:, :points] - density[:, points:]).abs().mean()


class EG3DStep:
    """``step(trainer, batch)`` for the engine; the trainer's modules are ``generator`` and
    ``discriminator``, and it averages the generator (``averages``, ``EG3DRecipe.ema_half_life``)."""

    def __init__(self, recipe: EG3DRecipe, batch: int):
        self.recipe, self.batch = recipe, batch

    def score(self, discriminator: DualDiscriminator, image: torch.Tensor, raw: torch.Tensor, cameras: torch.Tensor,
              sigma: float) -> torch.Tensor:
        dual = discriminator.stack(blur_images(image, sigma), raw)
        return discriminator.score(augment(dual, self.recipe.augment), cameras)

    def __call__(self, trainer: Trainer, batch: GanBatch) -> dict[str, float]:
        recipe, step = self.recipe, trainer.step
        generator, discriminator = trainer.modules["generator"], trainer.modules["discriminator"]
        resolution = recipe.resolution_at(step, generator.config.neural_resolution)
        sigma = fading_blur_sigma(step, recipe.blur_sigma, recipe.blur_fade_steps)
        swap = batch.swap_draws < recipe.swap_probability_at(step)
        conditioning = torch.where(swap[:, None], batch.swap_cameras, batch.cameras)
        ws = generator.mapping(batch.z, conditioning)
        generator.mapping.track_mean(ws)
        fake = generator.synthesis(ws, batch.cameras, neural_resolution=resolution)

        real = batch.real.detach()
        real_raw = F.interpolate(real, size=(resolution, resolution), mode="bilinear", align_corners=False,
                                 antialias=True)
        regularise = recipe.r1_gamma > 0 and trainer.due(recipe.r1_every)
        if regularise:
            real, real_raw = real.requires_grad_(True), real_raw.detach().requires_grad_(True)
        real_scores = self.score(discriminator, real, real_raw, batch.real_cameras, sigma)
        fake_scores = self.score(discriminator, fake.image.detach(), fake.raw.detach(), batch.cameras, sigma)
        d_loss = discriminator_loss(real_scores, fake_scores)
        losses = {"discriminator": d_loss.item(), "real_score": real_scores.mean().item(),
                  "fake_score": fake_scores.mean().item()}
        if regularise:
            penalty = r1_penalty(real_scores, [real, real_raw])
            d_loss = d_loss + penalty * (recipe.r1_gamma / 2 * recipe.r1_every)
            losses["r1"] = penalty.item()
        trainer.descend("discriminator", d_loss)

        discriminator.requires_grad_(False)
        g_loss = generator_loss(self.score(discriminator, fake.image, fake.raw, batch.cameras, sigma))
        trainer.descend("generator", g_loss)
        discriminator.requires_grad_(True)
        losses["generator"] = g_loss.item()
        if recipe.density_weight > 0 and trainer.due(recipe.density_every):
            density = density_smoothness(generator, batch.z, conditioning, recipe.density_points, recipe.density_offset)
            trainer.descend("generator", density * (recipe.density_weight * recipe.density_every))
            losses["density"] = density.item()
        losses["total"] = losses["discriminator"] + losses["generator"]
        return losses
