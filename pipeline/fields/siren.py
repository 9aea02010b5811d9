"""pi-GAN's FiLM-SIREN field: every layer is ``sin(frequency * Linear(x) + phase)``, with the
frequencies and phase shifts (the latent, from a mapping network) per sample; a density
head, and a colour FiLM layer on [features, view direction] then RGB through a sigmoid.

Initialisation as published: the first layer uniform(-1/n, 1/n), the others SIREN's
uniform(+-sqrt(6/n) / 25); the mapping network scales its frequencies as ``f * 15 + 30``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from pipeline.render.field import FieldOutput

FREQUENCY_FACTOR = 25.0  # the hidden layers' SIREN initialisation (pi-GAN's frequency_init(25))


class Modulation(NamedTuple):
    frequencies: torch.Tensor  # (N, layers + 1, width): the colour layer's last
    phases: torch.Tensor  # (N, layers + 1, width)


@dataclass(frozen=True)
class SirenConfig:
    layers: int = 8  # FiLM layers before the heads (pi-GAN: 8)
    width: int = 256  # (pi-GAN: 256)
    box_warp: float = 0.24  # points are scaled by 2 / box_warp before the first layer (pi-GAN's UniformBoxWarp)

    def build(self) -> SirenField:
        return SirenField(self)


class SirenField(nn.Module):
    """``Field`` whose latent is a ``Modulation``; features are the three RGB channels."""

    def __init__(self, config: SirenConfig):
        super().__init__()
        self.config = config
        widths = [3] + [config.width] * config.layers
        self.film = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.density = nn.Linear(config.width, 1)
        self.colour_film = nn.Linear(config.width + 3, config.width)
        self.rgb = nn.Linear(config.width, 3)
        with torch.no_grad():
            for k, layer in enumerate([*self.film, self.density, self.colour_film, self.rgb]):
                fan_in = layer.weight.shape[1]
                bound = 1 / fan_in if k == 0 else math.sqrt(6 / fan_in) / FREQUENCY_FACTOR
                layer.weight.uniform_(-bound, bound)

    def forward(self, points: torch.Tensor, directions: torch.Tensor, modulation: Modulation) -> FieldOutput:
        # points (N, M, 3), unit directions (N, M, 3); modulation (N, layers + 1, width) each
        x = points * (2.0 / self.config.box_warp)
        for k, layer in enumerate(self.film):
            x = torch.sin(modulation.frequencies[:, k, None] * layer(x) + modulation.phases[:, k, None])
        colour = self.colour_film(torch.cat([x, directions], dim=-1))
        colour = torch.sin(modulation.frequencies[:, -1, None] * colour + modulation.phases[:, -1, None])
        return FieldOutput(raw_density=self.density(x), features=torch.sigmoid(self.rgb(colour)))
