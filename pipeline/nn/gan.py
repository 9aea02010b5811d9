"""Losses and regularisers of the StyleGAN2 family (EG3D, pi-GAN): the non-saturating loss and R1.

The WGAN-GP critic of Total Relighting lives in ``losses`` with the other image losses."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: softplus(-D(G(z))), averaged (scores (B, 1))."""
    return F.softplus(-fake_scores).mean()


def discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The discriminator's logistic loss: softplus(D(fake)) + softplus(-D(real)), averaged."""
    return F.softplus(fake_scores).mean() + F.softplus(-real_scores).mean()


def r1_penalty(scores: torch.Tensor, inputs: list[torch.Tensor]) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): the squared norm of the gradient of the discriminator's scores
    (B, 1) with respect to its real inputs (each (B, ...), requiring grad), summed over the inputs
    (EG3D's dual image and raw image), averaged over the batch; the loss adds gamma / 2 times it.
    Zero when the scores do not depend on the inputs."""
    grads = torch.autograd.grad(scores.sum(), inputs, create_graph=True, allow_unused=True)
    per_sample = [g.square().flatten(1).sum(1) for g in grads if g is not None]
    return torch.stack(per_sample).sum(0).mean() if per_sample else scores.new_zeros(())


def fading_blur_sigma(step: int, initial: float, fade_steps: int) -> float:
    """EG3D's blur of the images the discriminator sees: ``initial`` pixels of Gaussian sigma at
    the start, falling linearly to 0 over ``fade_steps`` (0: no blur), so the discriminator cannot
    win on fine detail before the generator has any."""
    return initial * max(0.0, 1.0 - step / fade_steps) if fade_steps > 0 else 0.0


def blur_images(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """images (B, C, H, W) blurred by a Gaussian of ``sigma`` pixels, truncated at 3 sigma and
    normalised (replicated borders); unchanged below sigma 1/3, where the kernel is one tap."""
    radius = int(3 * sigma)
    if radius < 1:
        return images
    taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, device=images.device, dtype=images.dtype) / sigma) ** 2)
    taps = taps / taps.sum()
    channels = images.shape[1]
    padded = F.pad(images, (radius, radius, radius, radius), mode="replicate")
    rows = F.conv2d(padded, taps.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(rows, taps.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)
