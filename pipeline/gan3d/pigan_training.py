"""pi-GAN's training recipe on the engine (Chan et al. 2021; ``reference/SYSTEMS.md``, section 4).

A curriculum of phases, each (steps, resolution, batch, the two rates, samples per ray,
fade steps), read at every step through the engine's ``phase_at``: the batch through
``TrainSettings.batch_phases``, the rates through each optimiser's schedule (``PhaseRates``),
the rest by the step itself, so a resume lands in the right phase and the right point of
its fade. The last phase holds to the end of training, however long it runs (the public
release's curriculum raises ``KeyError`` there).

One step: the generator renders fakes at the phase's resolution, samples per ray and
density noise (Gaussian on the raw density, its standard deviation falling linearly from
``density_noise`` to 0 over ``density_noise_steps``: pi-GAN's ``nerf_noise``). The
discriminator's logistic loss on reals (brought down to that resolution) and the detached
fakes, with R1 on the reals (gamma / 2 times the squared gradient norm, pi-GAN's
``r1_lambda``; every step as published, or lazily every ``r1_every`` steps scaled by the
interval) and, with a pose head, ``pose_weight`` times the squared error of the regressed
yaw and pitch of fakes and reals (``pos_lambda``). Then the generator's non-saturating loss
through the updated discriminator on the same fakes (pi-GAN renders them twice; EG3D's step
here saves that pass too), over the top-k share of its fakes (``topk``: 0.99 ** (step /
topk_interval), at least ``topk_min``), plus the pose term. Fakes are seen from the dataset's
cameras, or, with ``camera_prior`` (yaw and pitch standard deviations), from cameras drawn
about the front as pi-GAN draws them for photographs without poses (its CelebA prior: 0.3 and
0.155 rad); the pose term then covers fakes only, and the reals' cameras go unused. A new discriminator block fades
in over the phase's ``fade_steps``. Gradients are clipped to ``gradient_clip`` (norm) for
both networks; Adam with betas (0, 0.9). The engine keeps the EMA generator
(``ema_half_life`` steps: pi-GAN's decay 0.999 is a half-life of 693).

FENeRF trains by the same step with a second discriminator (``PiganStep(recipe, semantic=...)``)
that judges a picture together with its segmentation.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from pipeline import DataError, distributed
from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.gan3d.data import FaceSet, GanBatch, GanSamples
from pipeline.gan3d.pigan import PiganGenerator
from pipeline.gan3d.pigan_discriminator import PiganDiscriminator
from pipeline.gan3d.segmented import SegmentedFaceSet, SegmentedSamples
from pipeline.gan3d.snapshots import finish, Previews, Snapshots
from pipeline.nn.gan import discriminator_loss, r1_penalty
from pipeline.render.volume import VolumeConfig
from pipeline.seeds import rng_for
from pipeline.stage import StageContext, StageResult
from pipeline.training import BatchPhase, Optimization, phase_at, run_identity, Trainer, TrainSettings

PIGAN_BETAS = (0.0, 0.9)


@dataclass(frozen=True)
class PiganPhase:
    """A phase of the curriculum: ``steps`` steps (the last phase holds to the end, whatever its
    ``steps``) of ``batch`` pictures of ``resolution`` pixels, rendered with ``samples_per_ray``
    stratified samples and as many hierarchical ones, at these rates; a resolution larger than
    the previous phase's fades the discriminator's new block in over ``fade_steps``."""

    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    steps: int
    resolution: int
    batch: int
    generator_rate: float
    discriminator_rate: float
    samples_per_ray: int
    fade_steps: int = 0


@dataclass(frozen=True)
class PiganRecipe:
    """How pi-GAN trains: the public release's CelebA values in comments."""

    __pydantic_config__ = {"strict": False, "extra": "forbid"}

    curriculum: tuple[PiganPhase, ...] = (PiganPhase(200_000, 64, 56, 6e-5, 2e-4, 12, 10_000),)
    r1_gamma: float = 0.2  # r1_lambda
    r1_every: int = 1  # pi-GAN: every step; k > 1: lazily every k steps, scaled by k (StyleGAN2's lazy R1)
    pose_weight: float = 15.0  # pos_lambda; 0: no pose term (the discriminator's pose head unused)
    gradient_clip: float = 10.0  # grad_clip: the largest gradient norm of either network
    density_noise: float = 1.0  # nerf_noise at step 0
    density_noise_steps: int = 5000  # ... falling linearly to 0
    topk_interval: int = 2000
    topk_min: float = 0.6  # topk_v
    ema_half_life: float = 693.0  # steps: decay 0.999
    camera_prior: tuple[float, float] | None = None  # (yaw, pitch) std in radians: fakes' cameras from h_stddev, v_stddev

    def phase(self, step: int) -> tuple[int, PiganPhase, int]:
        """(index of the phase, the phase, steps since it began) at ``step``; the last phase holds."""
        at = phase_at(self.curriculum, step)
        if at.phase is None:
            last = len(self.curriculum) - 1
            return last, self.curriculum[last], at.into + self.curriculum[last].steps
        return at.index, at.phase, at.into

    def alpha(self, step: int) -> float:
        """The fade-in of the discriminator's block at the phase's resolution: 1 in the first
        phase and in any phase that does not grow the resolution."""
        k, phase, into = self.phase(step)
        grew = k > 0 and phase.resolution > self.curriculum[k - 1].resolution
        return min(1.0, into / phase.fade_steps) if grew and phase.fade_steps > 0 else 1.0

    def density_noise_at(self, step: int) -> float:
        if self.density_noise_steps <= 0:
            return 0.0
        return self.density_noise * max(0.0, 1.0 - step / self.density_noise_steps)

    def topk_share(self, step: int) -> float:
        """The share of fakes whose scores train the generator (the best-judged ones)."""
        return max(0.99 ** (step / self.topk_interval), self.topk_min) if self.topk_interval > 0 else 1.0

    @property
    def batch_phases(self) -> tuple[BatchPhase, ...]:
        """The curriculum's early batches for ``TrainSettings`` (its ``batch``: the last phase's)."""
        return tuple(BatchPhase(phase.steps, phase.batch) for phase in self.curriculum[:-1])


@dataclass(frozen=True)
class PhaseRates:
    """A learning-rate schedule (the engine's ``factor``): each phase's rate of one network,
    relative to the first phase's (the rate the optimiser is built with)."""

    recipe: PiganRecipe
    network: str  # "generator" or "discriminator"

    def factor(self, step: int, steps: int) -> float:
        _, phase, _ = self.recipe.phase(step)
        return self.rate(phase) / self.rate(self.recipe.curriculum[0])

    def rate(self, phase: PiganPhase) -> float:
        return getattr(phase, f"{self.network}_rate")


def pigan_optimizers(generator: PiganGenerator, discriminator: PiganDiscriminator, recipe: PiganRecipe,
                     semantic: PiganDiscriminator | None = None) -> dict[str, Optimization]:
    """Adam for each network at its phase's rate; FENeRF's ``semantic`` discriminator (optional)
    at the discriminators' rate."""
    first = recipe.curriculum[0]
    networks = [("generator", generator, "generator"), ("discriminator", discriminator, "discriminator")]
    if semantic is not None:
        networks.append(("semantic", semantic, "discriminator"))
    optimizers = {}
    for name, net, kind in networks:
        rates = PhaseRates(recipe, kind)
        adam = torch.optim.Adam(net.parameters(), rates.rate(first), betas=PIGAN_BETAS, fused=True)
        optimizers[name] = Optimization(adam, rates, clip=recipe.gradient_clip)
    return optimizers


def prior_cameras(spread: tuple[float, float], count: int, rng: np.random.Generator) -> torch.Tensor:
    """``count`` EG3D cameras (count, 25) on the orbit of ``pipeline.camera.eg3d.orbit_camera``, yaw and
    pitch drawn from zero-mean Gaussians with standard deviations ``spread`` (radians; pi-GAN's
    ``sample_dist: gaussian`` about the front), pitch kept short of the poles."""
    yaws = rng.normal(0.0, spread[0], count)
    pitches = np.clip(rng.normal(0.0, spread[1], count), -np.pi / 2 + 1e-5, np.pi / 2 - 1e-5)
    return torch.from_numpy(np.stack([camera_label(orbit_camera(y, p)) for y, p in zip(yaws, pitches)])).float()


def orbit_angles(cameras: torch.Tensor) -> torch.Tensor:
    """(yaw, pitch) in radians (N, 2) of EG3D cameras (N, 25) about the origin, as
    ``pipeline.camera.eg3d.orbit_camera`` places them: what the pose head regresses."""
    position = cameras[:, [3, 7, 11]]
    yaw = torch.atan2(position[:, 0], position[:, 2])
    pitch = torch.atan2(position[:, 1], position[:, [0, 2]].norm(dim=1))
    return torch.stack([yaw, pitch], dim=1)


class PiganStep:
    """``step(trainer, batch)`` for the engine; the trainer's modules are ``generator`` and
    ``discriminator``, and it averages the generator (``averages``). With ``semantic`` (FENeRF) the
    trainer also has that discriminator, which judges a picture together with its segmentation
    (the reals' label maps one-hot, the fakes' class probabilities, both in [-1, 1]); it has its own
    logistic loss and R1, and the generator's loss is the sum of both discriminators' terms."""

    def __init__(self, recipe: PiganRecipe, semantic: str | None = None):
        self.recipe, self.semantic = recipe, semantic

    def __call__(self, trainer: Trainer, batch: GanBatch) -> dict[str, float]:
        recipe, step = self.recipe, trainer.step
        generator = trainer.modules["generator"]
        _, phase, _ = recipe.phase(step)
        alpha, side = recipe.alpha(step), phase.resolution
        volume = dataclasses.replace(generator.config.volume, coarse_samples=phase.samples_per_ray,
                                     fine_samples=phase.samples_per_ray)
        if recipe.camera_prior is not None:  # keyed by (seed, rank, step): a resumed run draws the same
            rng = rng_for(trainer.settings.seed, "pigan-camera-prior", step * distributed.world_size() + distributed.rank())
            batch = batch._replace(cameras=prior_cameras(recipe.camera_prior, len(batch.z), rng).to(batch.cameras))
        out = generator(batch.z, batch.cameras, side, recipe.density_noise_at(step), volume=volume)
        real = batch.real.detach()
        if real.shape[-1] != side:
            real = F.interpolate(real, size=(side, side), mode="bilinear", align_corners=False, antialias=True)
        pairs = {"discriminator": (real, out.image)}
        if self.semantic is not None:
            pairs[self.semantic] = (torch.cat([real, signed_one_hot(batch.real_labels, out.segmentation.shape[1], side)], 1),
                                    torch.cat([out.image, out.segmentation * 2.0 - 1.0], 1))
        regularise = recipe.r1_gamma > 0 and trainer.due(recipe.r1_every)
        losses = {}
        for name, (real_input, fake_input) in pairs.items():
            losses.update(self.discriminator_step(trainer, name, real_input, fake_input, batch, alpha, regularise))
        g_loss = 0.0
        for name, (_, fake_input) in pairs.items():
            discriminator = trainer.modules[name]
            discriminator.requires_grad_(False)
            judged = discriminator(fake_input, alpha)
            kept = math.ceil(recipe.topk_share(step) * len(judged.logit))
            term = F.softplus(-torch.topk(judged.logit, kept).values).mean()
            losses[_key(name, "generator")] = term.item()
            if name == "discriminator" and recipe.pose_weight > 0 and judged.pose is not None:
                term = term + recipe.pose_weight * F.mse_loss(judged.pose, orbit_angles(batch.cameras))
            g_loss = g_loss + term
        trainer.descend("generator", g_loss)
        for name in pairs:
            trainer.modules[name].requires_grad_(True)
        losses["total"] = sum(losses[_key(name, k)] for name in pairs for k in ("discriminator", "generator"))
        return losses

    def discriminator_step(self, trainer: Trainer, name: str, real: torch.Tensor, fake: torch.Tensor,
                           batch: GanBatch, alpha: float, regularise: bool) -> dict[str, float]:
        """One step of discriminator ``name``: its logistic loss, R1 when ``regularise``, and (the
        picture's discriminator, with a pose head) the pose term."""
        recipe, discriminator = self.recipe, trainer.modules[name]
        real = real.detach().requires_grad_(regularise)
        real_judged, fake_judged = discriminator(real, alpha), discriminator(fake.detach(), alpha)
        d_loss = discriminator_loss(real_judged.logit, fake_judged.logit)
        losses = {_key(name, "discriminator"): d_loss.item(), _key(name, "real_score"): real_judged.logit.mean().item(),
                  _key(name, "fake_score"): fake_judged.logit.mean().item()}
        if name == "discriminator":
            losses["alpha"] = alpha  # the fade-in both discriminators follow
        if regularise:
            penalty = r1_penalty(real_judged.logit, [real])
            d_loss = d_loss + penalty * (recipe.r1_gamma / 2 * recipe.r1_every)
            losses[_key(name, "r1")] = penalty.item()
        if name == "discriminator" and recipe.pose_weight > 0 and real_judged.pose is not None:
            pose_error = F.mse_loss(fake_judged.pose, orbit_angles(batch.cameras))
            if recipe.camera_prior is None:  # the reals' cameras are trusted
                pose_error = pose_error + F.mse_loss(real_judged.pose, orbit_angles(batch.real_cameras))
            d_loss = d_loss + recipe.pose_weight * pose_error
            losses["pose"] = pose_error.item()
        trainer.descend(name, d_loss)
        return losses


def _key(discriminator: str, loss: str) -> str:
    """A loss's name in the history: the picture's discriminator's plain, another's prefixed."""
    return loss if discriminator == "discriminator" else f"{discriminator}_{loss}"


def signed_one_hot(labels: torch.Tensor, classes: int, side: int) -> torch.Tensor:
    """Label maps (B, H, W) as one-hot (B, classes, side, side) in {-1, 1}, brought to ``side`` by
    nearest neighbours (labels do not blend)."""
    if labels is None:
        raise ValueError("the semantic discriminator needs the reals' label maps (a dataset with labels/)")
    if labels.shape[-1] != side:
        labels = F.interpolate(labels[:, None].float(), size=(side, side), mode="nearest")[:, 0].long()
    return F.one_hot(labels.long(), classes).permute(0, 3, 1, 2).float() * 2.0 - 1.0


def train(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path], stage: str) -> StageResult:
    """Stages ``train_pigan`` and ``train_fenerf`` (a section with a ``semantic`` discriminator: FENeRF,
    on the dataset's label maps): the curriculum on the engine, snapshots, the final generator."""
    cfg, device, out = ctx.params, ctx.execution.device, outputs["model"]
    recipe, semantic = cfg.recipe, getattr(cfg, "semantic", None)
    largest = max(phase.resolution for phase in recipe.curriculum)
    native = FaceSet.native(inputs["dataset"], preload=False).resolution
    if native < largest:
        raise DataError(f"{inputs['dataset']}: images are {native} px, smaller than the curriculum's largest "
                        f"resolution ({largest}, {stage}.recipe.curriculum)")
    # each phase brings the reals down to its side
    faces = (FaceSet if semantic is None else SegmentedFaceSet)(inputs["dataset"], largest, cfg.preload)
    identity = run_identity(ctx.base, cfg, stage, inputs)
    torch.manual_seed(ctx.base.seed)
    generator, discriminator = cfg.model.build(), cfg.discriminator.build()
    modules = {"generator": generator, "discriminator": discriminator}
    if semantic is not None:
        modules["semantic"] = semantic.build()
    settings = TrainSettings(cfg.steps, recipe.curriculum[-1].batch, cfg.checkpoint_every, ctx.base.seed,
                             stage.removeprefix("train_"), ctx.execution.workers, cfg.precision,
                             batch_phases=recipe.batch_phases)
    trainer = Trainer(modules, pigan_optimizers(generator, discriminator, recipe, modules.get("semantic")), settings,
                      device, averages={"generator": recipe.ema_half_life})
    work = ctx.work_dir or out
    previews = Previews(cfg.grid_seeds, 1.0, cfg.turntable_frames)
    samples = (GanSamples if semantic is None else SegmentedSamples)(faces, generator.z_dim, ctx.base.seed)
    trainer.fit(samples, PiganStep(recipe, None if semantic is None else "semantic"), work, identity.fingerprint,
                ctx.log_history, after_step=Snapshots(work, cfg.snapshot_every, previews, identity, ctx.log_history))
    return finish(trainer, identity, work, out, previews, images=len(faces))
