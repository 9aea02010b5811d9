"""One training step of each relighting network, and the losses they minimise.

Geometry: L1 and angle on normals. Albedo: L1 and multi-scale gradient L1 (our
stand-in for the perceptual term, pipeline.nn.losses). Shading: on the relit
foreground L1, L1 weighted by the luminance of S_hat (highlights, as the paper's
specular loss) and multi-scale gradient L1, plus a WGAN-GP adversarial term.
All losses are over the foreground (alpha > 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from pipeline.io.sheet import grid, label, to_picture
from pipeline.light.tonemap import LUMINANCE
from pipeline.models.relighting import AlbedoNet, GeometryNet, ShadingNet
from pipeline.nn.losses import angular_error, critic_loss, generator_adversarial_loss, masked_l1, multiscale_gradient_l1
from pipeline.relighting.data import RelightBatch, RelightSample, sample_batch
from pipeline.training import Loop

_LUMINANCE = torch.tensor(LUMINANCE, dtype=torch.float32).view(1, 3, 1, 1)


@dataclass(frozen=True)
class BatchShape:
    batch: int
    crop: int


def _descend(loop: Loop, name: str, losses: dict[str, torch.Tensor]) -> dict[str, float]:
    optimizer = loop.optimizers[name]
    optimizer.zero_grad()
    losses["total"].backward()
    optimizer.step()
    return {key: float(value.detach()) for key, value in losses.items()}


def geometry_losses(net: GeometryNet, batch: RelightBatch, l1: float, angular: float) -> dict[str, torch.Tensor]:
    normals, mask = net(batch.image), (batch.alpha > 0).float()
    losses = {"l1": masked_l1(normals, batch.normals, mask), "angular": angular_error(normals, batch.normals, mask)}
    losses["total"] = l1 * losses["l1"] + angular * losses["angular"]
    return losses


def geometry_step(loop: Loop, samples: list[RelightSample], shape: BatchShape, l1: float, angular: float) -> dict[str, float]:
    batch = sample_batch(samples, loop.rng, shape.batch, shape.crop)
    return _descend(loop, "geometry", geometry_losses(loop.modules["geometry"], batch, l1, angular))


def albedo_losses(net: AlbedoNet, batch: RelightBatch, l1: float, gradient: float) -> dict[str, torch.Tensor]:
    albedo, mask = net(batch.image, batch.normals), (batch.alpha > 0).float()
    losses = {"l1": masked_l1(albedo, batch.albedo, mask), "gradient": multiscale_gradient_l1(albedo, batch.albedo, mask)}
    losses["total"] = l1 * losses["l1"] + gradient * losses["gradient"]
    return losses


def albedo_step(loop: Loop, samples: list[RelightSample], shape: BatchShape, l1: float, gradient: float) -> dict[str, float]:
    batch = sample_batch(samples, loop.rng, shape.batch, shape.crop)
    return _descend(loop, "albedo", albedo_losses(loop.modules["albedo"], batch, l1, gradient))


@dataclass(frozen=True)
class ShadingWeights:
    l1: float
    specular: float
    gradient: float
    adversarial: float  # 0: no critic


def critic_view(relit: torch.Tensor) -> torch.Tensor:
    """What the critic sees: relit radiance compressed to [0, 1) by x / (1 + x) (B, 3, H, W)."""
    return relit / (1.0 + relit.clamp_min(0.0))


def shading_losses(net: ShadingNet, batch: RelightBatch, weights: ShadingWeights) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The losses and the predicted relit foreground (premultiplied)."""
    out = net(batch.image, batch.albedo, batch.diffuse, batch.specular)
    relit, mask = out.relit * batch.alpha, (batch.alpha > 0).float()
    highlight = (out.specular_hat.detach() * _LUMINANCE).sum(dim=1, keepdim=True) * mask
    mean = highlight.sum(dim=(1, 2, 3), keepdim=True).div(mask.sum(dim=(1, 2, 3), keepdim=True).clamp_min(1))
    highlight = highlight / mean.clamp_min(1e-6)  # weights of mean one over each foreground
    losses = {"l1": masked_l1(relit, batch.target, mask),
              "specular": masked_l1(relit * highlight, batch.target * highlight, mask),
              "gradient": multiscale_gradient_l1(relit, batch.target, mask)}
    losses["total"] = weights.l1 * losses["l1"] + weights.specular * losses["specular"] + weights.gradient * losses["gradient"]
    return losses, relit


def shading_step(loop: Loop, samples: list[RelightSample], shape: BatchShape, weights: ShadingWeights) -> dict[str, float]:
    batch = sample_batch(samples, loop.rng, shape.batch, shape.crop)
    losses, relit = shading_losses(loop.modules["shading"], batch, weights)
    if weights.adversarial > 0:
        critic, real, fake = loop.modules["critic"], critic_view(batch.target), critic_view(relit)
        loop.optimizers["critic"].zero_grad()
        losses["critic"] = critic_loss(critic, real, fake)  # lambda = 10
        losses["critic"].backward()
        loop.optimizers["critic"].step()
        losses["adversarial"] = generator_adversarial_loss(critic, fake)
        losses["total"] = losses["total"] + weights.adversarial * losses["adversarial"]
    # the critic's own loss is already stepped; only the generator's total descends below
    return _descend(loop, "shading", losses)


def preview_grid(samples: list[RelightSample], predict: Callable[[RelightSample], np.ndarray],
                 truth: Callable[[RelightSample], np.ndarray], kind: str, count: int = 4) -> np.ndarray:
    """Input | prediction | truth, masked by alpha, for ``count`` samples spread over the list."""
    rows = []
    for sample in samples[:: max(1, len(samples) // count)][:count]:
        mask = sample.alpha[..., None]
        rows.append([label(to_picture(sample.image, "scalar"), sample.name[:16]),
                     label(to_picture(predict(sample) * mask, kind), "predicted"), label(to_picture(truth(sample) * mask, kind), "true")])
    return grid(rows)


def run_metrics(net: torch.nn.Module, samples: list, steps: int, resumed: int, finals: dict[str, float]) -> dict:
    """What a training stage reports besides its losses."""
    return {"parameters": sum(p.numel() for p in net.parameters()), "training_samples": len(samples),
            "steps": steps, "resumed_from_step": resumed, **finals}
