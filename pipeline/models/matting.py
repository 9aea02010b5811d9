"""The matting module of Total Relighting: one U-Net encoder, three decoders.

Input: an sRGB image and a trimap (one-hot: background, unknown, foreground), and,
when ``guidance`` is set (our addition, see pipeline/matting/guidance.py), eight
colour-guidance channels.
Outputs: refined trimap logits, alpha and foreground colour. The trimap and
foreground decoders are four up-sampling blocks (published widths 256, 128, 64,
32, LeakyReLU; one 3x3 convolution each, ``decoder_layers``); the
alpha decoder is the same followed by 7x7, 5x5 and 3x3 convolutions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from pipeline.nn.blocks import Decoder, Encoder
from pipeline.nn.losses import gradient_l1, masked_l1

GUIDANCE_CHANNELS = 8  # pipeline.matting.guidance.CHANNELS (models do not import the data side)


@dataclass(frozen=True)
class MattingConfig:
    # params.yaml's train_matting.model validates into this (pipeline/schema/): YAML lists
    # become tuples, unknown keys are errors. A plain dict: models do not import pydantic.
    __pydantic_config__ = {"strict": False, "extra": "forbid"}

    widths: tuple[int, ...] = (32, 64, 128, 256, 512)  # encoder; decoders mirror all but the last
    guidance: bool = False  # extra input channels: spread F, spread B, unmixing alpha, guided-filter alpha
    norm: bool = False  # group normalisation after each convolution of the U-Net (the paper names none)
    # 3x3 convolutions per decoder level: one is the published decoder ("4 layers": 256, 128, 64, 32),
    # params' choice; the default two keeps model files written before this option loading as they were
    decoder_layers: int = 2
    decoder_widths: tuple[int, ...] | None = None  # coarse to fine, one per skip; None: the encoder's mirrored
    # one decoder whose last features feed all three heads (ours: 1.5x faster a training step on a
    # CPU, mattes as good at equal steps); False: a decoder per output, as published
    shared_decoder: bool = False

    def __post_init__(self):
        if self.decoder_widths is not None and len(self.decoder_widths) != len(self.widths) - 1:
            raise ValueError(f"decoder_widths has {len(self.decoder_widths)} entries; widths {tuple(self.widths)} "
                             f"need {len(self.widths) - 1} (one per skip connection)")

    @property
    def in_channels(self) -> int:
        return 6 + (GUIDANCE_CHANNELS if self.guidance else 0)

    @property
    def divisor(self) -> int:
        """Input height and width must be multiples of this."""
        return 2 ** (len(self.widths) - 1)

    def build(self) -> MattingNet:
        return MattingNet(self)


class MattingOutput(NamedTuple):
    trimap_logits: torch.Tensor  # (B, 3, H, W)
    alpha: torch.Tensor  # (B, 1, H, W) in [0, 1]
    foreground: torch.Tensor  # (B, 3, H, W) in [0, 1]


class MattingNet(nn.Module):
    def __init__(self, config: MattingConfig):
        super().__init__()
        self.config = config
        encoder_widths = tuple(config.widths)
        decoder_widths = tuple(config.decoder_widths or reversed(encoder_widths[:-1]))
        self.encoder = Encoder(config.in_channels, encoder_widths, act="relu", norm=config.norm)
        decoder = lambda: Decoder(encoder_widths, decoder_widths, norm=config.norm, convs=config.decoder_layers)  # noqa: E731
        if config.shared_decoder:
            self.decoder = decoder()
        else:
            self.trimap_decoder, self.alpha_decoder, self.foreground_decoder = decoder(), decoder(), decoder()
        last = decoder_widths[-1]
        self.trimap_head = nn.Conv2d(last, 3, 1)
        self.alpha_head = nn.Sequential(
            nn.Conv2d(last, last, 7, padding=3), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(last, last, 5, padding=2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(last, 1, 3, padding=1),
        )
        self.foreground_head = nn.Conv2d(last, 3, 1)

    @property
    def divisor(self) -> int:
        """Input height and width must be multiples of this."""
        return self.config.divisor

    def forward(self, image: torch.Tensor, trimap: torch.Tensor, guidance: torch.Tensor | None = None) -> MattingOutput:
        # image (B, 3, H, W) sRGB in [0, 1]; trimap (B, 3, H, W) one-hot; guidance (B, 8, H, W) if configured
        inputs = [image, trimap] + ([guidance] if self.config.guidance else [])
        features = self.encoder(torch.cat(inputs, dim=1))
        if self.config.shared_decoder:
            trimap_features = alpha_features = foreground_features = self.decoder(features)
        else:
            trimap_features, alpha_features, foreground_features = (
                self.trimap_decoder(features), self.alpha_decoder(features), self.foreground_decoder(features))
        return MattingOutput(
            trimap_logits=self.trimap_head(trimap_features),
            alpha=torch.sigmoid(self.alpha_head(alpha_features)),
            foreground=torch.sigmoid(self.foreground_head(foreground_features)),
        )


class MattingBatch(NamedTuple):
    image: torch.Tensor  # (B, 3, H, W) composite, sRGB [0, 1]
    trimap: torch.Tensor  # (B, 3, H, W) one-hot input trimap
    unknown: torch.Tensor  # (B, 1, H, W) the input trimap's unknown region
    alpha: torch.Tensor  # (B, 1, H, W) truth
    foreground: torch.Tensor  # (B, 3, H, W) truth, sRGB
    background: torch.Tensor  # (B, 3, H, W) sRGB
    true_trimap: torch.Tensor  # (B, H, W) class indices: where alpha is 0, fractional, 1
    guidance: torch.Tensor  # (B, 8, H, W) colour guidance from the input trimap
    mix: torch.Tensor  # (B,) uniform: where the critic's interpolate lies between real and fake


@dataclass(frozen=True)
class MattingLossWeights:
    alpha: float = 1.0
    composition: float = 1.0
    foreground: float = 0.5
    trimap: float = 0.2
    gradient: float = 1.0


def matting_losses(out: MattingOutput, batch: MattingBatch, weights: MattingLossWeights) -> dict[str, torch.Tensor]:
    """Alpha L1 on the unknown region, compositional L1 there, foreground L1 where alpha > 0,
    trimap cross-entropy, alpha-gradient L1 on the unknown region; ``total`` is their weighted sum."""
    recomposed = out.alpha * batch.foreground + (1 - out.alpha) * batch.background
    losses = {
        "alpha": masked_l1(out.alpha, batch.alpha, batch.unknown),
        "composition": masked_l1(recomposed, batch.image, batch.unknown),
        "foreground": masked_l1(out.foreground, batch.foreground, (batch.alpha > 0).float()),
        "trimap": nn.functional.cross_entropy(out.trimap_logits, batch.true_trimap),
        "gradient": gradient_l1(out.alpha, batch.alpha, batch.unknown),
    }
    losses["total"] = sum(getattr(weights, name) * value for name, value in losses.items())
    return losses
