"""A patch critic for WGAN-GP: strided convolutions, LeakyReLU, no normalisation, no sigmoid."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class CriticConfig:
    in_channels: int
    widths: tuple[int, ...] = (32, 64, 128)

    def build(self) -> PatchCritic:
        return PatchCritic(self)


class PatchCritic(nn.Module):
    def __init__(self, config: CriticConfig):
        super().__init__()
        self.config = config
        layers, channels = [], config.in_channels
        for width in config.widths:
            layers += [nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            channels = width
        layers.append(nn.Conv2d(channels, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, 1, H/2^n, W/2^n) scores
        return self.net(x)
