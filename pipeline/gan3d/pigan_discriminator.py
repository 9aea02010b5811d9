"""pi-GAN's progressive discriminator (SYSTEMS.md section 4).

One residual block per resolution, from the largest down to 4 x 4: two 3x3 CoordConv
layers (the input plus two channels holding x and y in [-1, 1], so a layer knows where
in the picture it is) with LeakyReLU 0.2, a 1x1 projection on the skip path where the
width changes, both halved by 2x2 average pooling and summed with a 1/sqrt(2) scale.
Each resolution has its own 1x1 "from RGB" adapter, so the discriminator takes pictures
of any power-of-two size up to ``max_resolution``: a picture of side R enters through
R's adapter and runs R's block and every one below. While the curriculum grows R, the
new block fades in: its output is mixed with the previous resolution's adapter on the
picture pooled to R/2, ``alpha`` from 0 (the old discriminator exactly) to 1. The last
layer gives a realness logit and, with ``pose_head``, a yaw and pitch (pi-GAN's
position regression, trained with ``pos_lambda`` when cameras are not given).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

MIN_RESOLUTION = 4


class CoordConv(nn.Module):
    """A convolution whose input also holds each pixel's x and y in [-1, 1] (two more channels)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 3):
        super().__init__()
        self.conv = nn.Conv2d(in_channels + 2, out_channels, kernel, padding=kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, out, H, W)
        n, _, h, w = x.shape
        ys = torch.linspace(-1.0, 1.0, h, device=x.device, dtype=x.dtype).view(1, 1, h, 1).expand(n, 1, h, w)
        xs = torch.linspace(-1.0, 1.0, w, device=x.device, dtype=x.dtype).view(1, 1, 1, w).expand(n, 1, h, w)
        return self.conv(torch.cat([x, xs, ys], dim=1))


class ResidualCoordBlock(nn.Module):
    """Two CoordConv layers with LeakyReLU 0.2 beside a (projected) skip; both halved in size."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.main = nn.Sequential(CoordConv(in_channels, out_channels), nn.LeakyReLU(0.2),
                                  CoordConv(out_channels, out_channels), nn.LeakyReLU(0.2))
        self.skip = nn.Identity() if in_channels == out_channels else nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, in, H, W) -> (N, out, H/2, W/2)
        return (F.avg_pool2d(self.main(x), 2) + F.avg_pool2d(self.skip(x), 2)) / math.sqrt(2.0)


@dataclass(frozen=True)
class PiganDiscriminatorConfig:
    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    max_resolution: int = 128  # the largest picture side it takes (a power of two)
    channel_base: int = 8192  # width at resolution r: min(channel_base / r, channel_max)
    channel_max: int = 400  # (pi-GAN's widest layers have 400 channels)
    pose_head: bool = True  # also regress yaw and pitch
    channels: int = 3  # of its input (FENeRF's semantic discriminator: RGB and the class probabilities)

    def width(self, resolution: int) -> int:
        return max(1, min(self.channel_base // resolution, self.channel_max))

    @property
    def resolutions(self) -> tuple[int, ...]:
        """Every side it takes, largest first, down to 8 (the last block brings it to 4)."""
        if self.max_resolution < 2 * MIN_RESOLUTION or self.max_resolution & (self.max_resolution - 1):
            raise ValueError(f"max_resolution must be a power of two of at least {2 * MIN_RESOLUTION} "
                             f"(got {self.max_resolution})")
        return tuple(2 ** k for k in range(int(math.log2(self.max_resolution)), int(math.log2(MIN_RESOLUTION)), -1))

    def build(self) -> PiganDiscriminator:
        return PiganDiscriminator(self)


class Judgement(NamedTuple):
    logit: torch.Tensor  # (N,) realness
    pose: torch.Tensor | None  # (N, 2) yaw and pitch (radians), with ``pose_head``


class PiganDiscriminator(nn.Module):
    def __init__(self, config: PiganDiscriminatorConfig):
        super().__init__()
        self.config = config
        sides = config.resolutions
        self.from_rgb = nn.ModuleDict({str(r): nn.Sequential(nn.Conv2d(config.channels, config.width(r), 1), nn.LeakyReLU(0.2))
                                       for r in sides})
        self.blocks = nn.ModuleDict({str(r): ResidualCoordBlock(config.width(r), config.width(r // 2)) for r in sides})
        self.head = nn.Conv2d(config.width(MIN_RESOLUTION), 3 if config.pose_head else 1, MIN_RESOLUTION)

    def forward(self, image: torch.Tensor, alpha: float = 1.0) -> Judgement:
        """``image`` (N, channels, R, R) with R one of ``config.resolutions``; ``alpha`` in [0, 1] the
        fade-in of R's block (1: faded in)."""
        side = image.shape[-1]
        if image.shape[-2] != side or str(side) not in self.blocks:
            raise ValueError(f"pictures must be square with a side among {self.config.resolutions}, got {tuple(image.shape[-2:])}")
        x = self.blocks[str(side)](self.from_rgb[str(side)](image))
        if alpha < 1.0 and str(side // 2) in self.from_rgb:
            x = alpha * x + (1.0 - alpha) * self.from_rgb[str(side // 2)](F.avg_pool2d(image, 2))
        side //= 2
        while side > MIN_RESOLUTION:
            x = self.blocks[str(side)](x)
            side //= 2
        out = self.head(x).flatten(1)
        return Judgement(logit=out[:, 0], pose=out[:, 1:] if self.config.pose_head else None)
