"""Differentiable augmentation of what a discriminator sees (DiffAugment, Zhao et al. 2020).

Small datasets let a discriminator memorise its real images; augmenting real and fake
images alike, differentiably so the generator's gradient passes through, keeps it honest
without leaking the augmentation into the generated images. The three policies of the
paper: ``color`` (brightness, saturation, contrast), ``translation`` (up to an eighth of
the side, zeros shifted in) and ``cutout`` (a square of half the side zeroed). Each
sample draws its own from torch's generator, which the engine's checkpoints keep.

Images may stack several RGB images on the channel axis (EG3D's dual input: 6 channels);
each gets the same geometry and its own colour statistics, with the same draws.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch.nn import functional as F

Policy = Literal["color", "translation", "cutout"]
POLICIES: tuple[Policy, ...] = ("color", "translation", "cutout")


def _uniform(n: int, like: torch.Tensor, low: float, high: float) -> torch.Tensor:
    return torch.rand(n, 1, 1, 1, 1, device=like.device, dtype=like.dtype) * (high - low) + low


def color(x: torch.Tensor) -> torch.Tensor:
    """Brightness + U(-0.5, 0.5), saturation x U(0, 2), contrast x U(0.5, 1.5), per sample."""
    n, c, h, w = x.shape
    rgb = x.reshape(n, c // 3, 3, h, w)
    rgb = rgb + _uniform(n, x, -0.5, 0.5)
    grey = rgb.mean(dim=2, keepdim=True)
    rgb = (rgb - grey) * _uniform(n, x, 0.0, 2.0) + grey
    mean = rgb.mean(dim=(2, 3, 4), keepdim=True)
    rgb = (rgb - mean) * _uniform(n, x, 0.5, 1.5) + mean
    return rgb.reshape(n, c, h, w)


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Each sample shifted by whole pixels, up to ``ratio`` of its side each way, zeros shifted in."""
    n, c, h, w = x.shape
    dy, dx = (torch.randint(-int(s * ratio + 0.5), int(s * ratio + 0.5) + 1, (n, 1, 1), device=x.device) for s in (h, w))
    rows = (torch.arange(h, device=x.device).view(1, h, 1) + dy + 1).clamp(0, h + 1)
    cols = (torch.arange(w, device=x.device).view(1, 1, w) + dx + 1).clamp(0, w + 1)
    index = (rows * (w + 2) + cols).reshape(n, 1, h * w).expand(n, c, h * w)
    padded = F.pad(x, (1, 1, 1, 1)).reshape(n, c, (h + 2) * (w + 2))
    return padded.gather(2, index).reshape(n, c, h, w)


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Each sample with a square of ``ratio`` of its side zeroed at a random place (clipped at the border)."""
    n, _, h, w = x.shape
    size_h, size_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h + 1 - size_h % 2, (n, 1, 1), device=x.device) - size_h // 2
    left = torch.randint(0, w + 1 - size_w % 2, (n, 1, 1), device=x.device) - size_w // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1) - top
    cols = torch.arange(w, device=x.device).view(1, 1, w) - left
    inside = (rows >= 0) & (rows < size_h) & (cols >= 0) & (cols < size_w)
    return x * (~inside).unsqueeze(1).to(x.dtype)


AUGMENTATIONS = {"color": color, "translation": translation, "cutout": cutout}


def augment(x: torch.Tensor, policies: tuple[Policy, ...]) -> torch.Tensor:
    """``x`` (N, 3k, H, W) through each policy in turn (none: unchanged)."""
    for policy in policies:
        x = AUGMENTATIONS[policy](x)
    return x
