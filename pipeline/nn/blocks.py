"""Convolutional building blocks."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def activation(name: str) -> nn.Module:
    return {"relu": nn.ReLU(inplace=True), "leaky": nn.LeakyReLU(0.2, inplace=True)}[name]


def group_norm(channels: int) -> nn.GroupNorm:
    """Group normalisation with groups of (about) 4 channels: batch-size independent, same in training and use."""
    return nn.GroupNorm(max(1, channels // 4), channels)


class ConvBlock(nn.Sequential):
    """``convs`` 3x3 convolutions (two by default), each followed by the activation (and group
    normalisation if ``norm``)."""

    def __init__(self, in_channels: int, out_channels: int, act: str = "relu", norm: bool = False, convs: int = 2):
        layers = []
        for channels in (in_channels,) + (out_channels,) * (convs - 1):
            layers.append(nn.Conv2d(channels, out_channels, 3, padding=1))
            if norm:
                layers.append(group_norm(out_channels))
            layers.append(activation(act))
        super().__init__(*layers)


class Encoder(nn.Module):
    """U-Net encoder: a ConvBlock per width, halving the resolution between them.
    Returns every level's features, finest first."""

    def __init__(self, in_channels: int, widths: tuple[int, ...], act: str = "relu", norm: bool = False):
        super().__init__()
        channels = (in_channels,) + tuple(widths)
        self.levels = nn.ModuleList(ConvBlock(a, b, act, norm) for a, b in zip(channels[:-1], channels[1:]))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:  # x: (B, C, H, W), H and W divisible by 2^(levels-1)
        features = []
        for index, level in enumerate(self.levels):
            x = level(x if index == 0 else F.max_pool2d(x, 2))
            features.append(x)
        return features


class Decoder(nn.Module):
    """U-Net decoder: from the coarsest encoder level up, bilinear x2, concatenate the skip,
    ConvBlock of ``convs`` convolutions; one block per width (coarse to fine)."""

    def __init__(self, encoder_widths: tuple[int, ...], widths: tuple[int, ...], act: str = "leaky", norm: bool = False,
                 convs: int = 2):
        super().__init__()
        skips = tuple(reversed(encoder_widths[:-1]))
        inputs = (encoder_widths[-1],) + tuple(widths[:-1])
        self.blocks = nn.ModuleList(ConvBlock(i + s, w, act, norm, convs) for i, s, w in zip(inputs, skips, widths))

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = features[-1]
        for block, skip in zip(self.blocks, reversed(features[:-1])):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return x
