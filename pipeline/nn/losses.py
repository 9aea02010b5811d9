"""Losses: masked L1, image gradients, normals angles and the Wasserstein GAN with gradient penalty (Gulrajani et al. 2017)."""

from __future__ import annotations

import torch


def masked_l1(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean absolute error over the pixels where ``mask`` (broadcastable, 0/1) is set, per sample,
    then averaged over the batch (B, ...). Per-sample means make the batch loss a plain mean over
    samples, so data-parallel processes that each average their share agree with one process."""
    error = (predicted - target).abs()
    if mask is None:
        return error.mean()
    mask = mask.expand_as(error)
    per_sample = (error * mask).flatten(1).sum(1) / mask.flatten(1).sum(1).clamp_min(1.0)
    return per_sample.mean()


def image_gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences along x and y (B, C, H, W), zero-padded at the far edge."""
    dx = torch.nn.functional.pad(x[..., :, 1:] - x[..., :, :-1], (0, 1, 0, 0))
    dy = torch.nn.functional.pad(x[..., 1:, :] - x[..., :-1, :], (0, 0, 0, 1))
    return dx, dy


def gradient_l1(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """L1 between image gradients: penalises blurred or misplaced edges that plain L1 tolerates."""
    (pdx, pdy), (tdx, tdy) = image_gradients(predicted), image_gradients(target)
    return masked_l1(pdx, tdx, mask) + masked_l1(pdy, tdy, mask)


def critic_scores(critic, x: torch.Tensor) -> torch.Tensor:
    """One score per sample (B,): the mean of a patch critic's outputs. The critic loss and its
    gradient penalty both use it, so the penalty's weight does not change with the crop size."""
    return critic(x).flatten(1).mean(1)


GRADIENT_PENALTY = 10.0  # WGAN-GP's lambda (Gulrajani et al. 2017)


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, mix: torch.Tensor, weight: float = GRADIENT_PENALTY) -> torch.Tensor:
    """``weight * (||grad D(x_hat)|| - 1)^2`` on interpolates x_hat = mix real + (1 - mix) fake (B, ...),
    ``mix`` (B,) uniform, drawn by the caller (keyed to each sample, not to the process)."""
    mix = mix.view(-1, *([1] * (real.dim() - 1)))
    interpolate = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic_scores(critic, interpolate).sum(), interpolate, create_graph=True)
    return weight * ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def lazy_penalty_weight(due: bool, every: int) -> float:
    """The gradient penalty's weight at a step of lazy regularisation (StyleGAN2's, for R1): the
    penalty is computed only every ``every`` steps (``due``) and weighs ``every`` times more then,
    so its mean effect stays lambda while the critic's double backward runs a ``1 / every`` share of steps."""
    return GRADIENT_PENALTY * every if due else 0.0


def critic_loss(critic, real: torch.Tensor, fake: torch.Tensor, mix: torch.Tensor,
                penalty_weight: float = GRADIENT_PENALTY) -> torch.Tensor:
    """WGAN-GP critic loss: D(fake) - D(real) + gradient penalty (the critic has no sigmoid); a
    ``penalty_weight`` of 0 leaves the penalty out (see ``lazy_penalty_weight``)."""
    fake = fake.detach()
    loss = critic_scores(critic, fake).mean() - critic_scores(critic, real).mean()
    if penalty_weight > 0:
        loss = loss + gradient_penalty(critic, real, fake, mix, penalty_weight)
    return loss


def generator_adversarial_loss(critic, fake: torch.Tensor) -> torch.Tensor:
    return -critic_scores(critic, fake).mean()


def angular_error(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean angle in radians between unit vectors (B, 3, H, W) over ``mask`` (B, 1, H, W).
    The cosine is clamped short of +-1, where the arc cosine's gradient is infinite."""
    cosine = (predicted * target).sum(dim=1, keepdim=True).clamp(-0.9999, 0.9999)
    return masked_l1(torch.arccos(cosine), torch.zeros_like(cosine), mask)


def multiscale_gradient_l1(predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, scales: int = 3) -> torch.Tensor:
    """Image-gradient L1 at ``scales`` octaves (average-pooled by 2 between them).

    Our stand-in for a VGG perceptual loss, which needs pretrained weights that cannot be
    downloaded here: like it, it compares local structure (edges, shading gradients,
    highlights) at several scales rather than pixel values alone; unlike it, it knows no
    learned features."""
    total = predicted.new_zeros(())
    for scale in range(scales):
        if scale:
            predicted, target = (torch.nn.functional.avg_pool2d(x, 2) for x in (predicted, target))
            mask = torch.nn.functional.max_pool2d(mask, 2)
        total = total + gradient_l1(predicted, target, mask)
    return total / scales
