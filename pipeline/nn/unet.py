"""The U-Net of Total Relighting's relighting module (SYSTEMS.md section 1).

Per level of the encoder: a 3x3 convolution with LeakyReLU, whose output is the
skip, then anti-aliased down-sampling by blur-pooling (Zhang 2019: a fixed
binomial blur, then stride 2). A 3x3 bottleneck convolution at the coarsest
level. Per level of the decoder, coarse to fine: bilinear resize to the skip's
size, concatenation with the skip, a 3x3 convolution with LeakyReLU. A 1x1
head gives the output channels. With the published widths (32 ... 512, 512;
bottleneck 512) that is 13 convolution layers: 6 encoder, 1 bottleneck, 6 decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from pipeline.nn.blocks import group_norm


class BlurPool(nn.Module):
    """Blur with [1 2 1] x [1 2 1] / 16 per channel, then keep every second pixel."""

    def __init__(self, channels: int):
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        kernel = torch.outer(taps, taps) / 16.0
        self.register_buffer("kernel", kernel.expand(channels, 1, 3, 3).contiguous(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, C, ceil(H/2), ceil(W/2))
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), self.kernel, stride=2, groups=x.shape[1])


def conv_layer(in_channels: int, out_channels: int, norm: bool) -> nn.Sequential:
    """3x3 convolution, optional group normalisation, LeakyReLU(0.2)."""
    layers = [nn.Conv2d(in_channels, out_channels, 3, padding=1)]
    if norm:
        layers.append(group_norm(out_channels))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class UNetConfig:
    widths: tuple[int, ...]  # encoder widths, fine to coarse; the decoder mirrors them
    bottleneck: int
    norm: bool = False  # group normalisation after each convolution (the paper names none)

    @property
    def divisor(self) -> int:
        """Input height and width must be multiples of this."""
        return 2 ** len(self.widths)


class UNet(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, config: UNetConfig):
        super().__init__()
        widths = tuple(config.widths)
        inputs = (in_channels,) + widths[:-1]
        self.encoder = nn.ModuleList(conv_layer(a, b, config.norm) for a, b in zip(inputs, widths))
        self.pools = nn.ModuleList(BlurPool(w) for w in widths)
        self.bottleneck = conv_layer(widths[-1], config.bottleneck, config.norm)
        decoder_widths = tuple(reversed(widths))
        previous = (config.bottleneck,) + decoder_widths[:-1]
        self.decoder = nn.ModuleList(conv_layer(p + s, w, config.norm)
                                     for p, s, w in zip(previous, decoder_widths, decoder_widths))
        self.head = nn.Conv2d(decoder_widths[-1], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in, H, W) -> (B, out, H, W); H, W multiples of divisor
        skips = []
        for conv, pool in zip(self.encoder, self.pools):
            x = conv(x)
            skips.append(x)
            x = pool(x)
        x = self.bottleneck(x)
        for conv, skip in zip(self.decoder, reversed(skips)):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = conv(torch.cat([x, skip], dim=1))
        return self.head(x)
