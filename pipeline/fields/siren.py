"""pi-GAN's FiLM-SIREN field: every layer is ``sin(frequency * Linear(x) + phase)``, with the
frequencies and phase shifts (the latent, from a mapping network) per sample; a density
head, and a colour FiLM layer on [features, view direction] then RGB through a sigmoid.

Initialisation as published: the first layer uniform(-1/n, 1/n), the others SIREN's
uniform(+-sqrt(6/n) / 25); the mapping network scales its frequencies as ``f * 15 + 30``.
With it the pre-activations keep one distribution through depth and nearby points stay
correlated; ``init: plain`` (torch's default for ``nn.Linear``, uniform(+-1/sqrt(n))) is there to
show what goes wrong without it: at frequencies near 30 its pre-activations spread over a dozen
periods of the sine and the field turns to noise within a few layers (tests/fields/test_siren.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
from torch import nn

from pipeline.render.field import FieldOutput

FREQUENCY_FACTOR = 25.0  # the hidden layers' SIREN initialisation (pi-GAN's frequency_init(25))
FREQUENCY_SCALE, FREQUENCY_OFFSET = 15.0, 30.0  # the mapping network's frequencies: f * 15 + 30


class Modulation(NamedTuple):
    frequencies: torch.Tensor  # (N, layers + 1, width): the colour layer's last
    phases: torch.Tensor  # (N, layers + 1, width)


@dataclass(frozen=True)
class SirenConfig:
    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    layers: int = 8  # FiLM layers before the heads (pi-GAN: 8)
    width: int = 256  # (pi-GAN: 256)
    box_warp: float = 0.24  # points are scaled by 2 / box_warp before the first layer (pi-GAN's UniformBoxWarp)
    init: Literal["published", "plain"] = "published"  # plain: torch's default, for comparison only

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
        if config.init == "published":
            with torch.no_grad():
                for k, layer in enumerate([*self.film, self.density, self.colour_film, self.rgb]):
                    fan_in = layer.weight.shape[1]
                    bound = 1 / fan_in if k == 0 else math.sqrt(6 / fan_in) / FREQUENCY_FACTOR
                    layer.weight.uniform_(-bound, bound)

    def trunk(self, points: torch.Tensor, modulation: Modulation, pre_activations: list | None = None) -> torch.Tensor:
        """The FiLM layers' output (N, M, width) at points (N, M, 3); each layer's argument of the
        sine is appended to ``pre_activations`` when given."""
        x = points * (2.0 / self.config.box_warp)
        for k, layer in enumerate(self.film):
            pre = modulation.frequencies[:, k, None] * layer(x) + modulation.phases[:, k, None]
            if pre_activations is not None:
                pre_activations.append(pre)
            x = torch.sin(pre)
        return x

    def colour(self, x: torch.Tensor, directions: torch.Tensor, modulation: Modulation) -> torch.Tensor:
        """RGB (N, M, 3) in [0, 1] from the trunk's output x (N, M, width): the colour FiLM layer on
        [x, direction], modulated by the last frequencies and phase shifts."""
        colour = self.colour_film(torch.cat([x, directions], dim=-1))
        colour = torch.sin(modulation.frequencies[:, -1, None] * colour + modulation.phases[:, -1, None])
        return torch.sigmoid(self.rgb(colour))

    def forward(self, points: torch.Tensor, directions: torch.Tensor, modulation: Modulation) -> FieldOutput:
        # points (N, M, 3), unit directions (N, M, 3); modulation (N, layers + 1, width) each
        x = self.trunk(points, modulation)
        return FieldOutput(raw_density=self.density(x), features=self.colour(x, directions, modulation))


@dataclass(frozen=True)
class SirenMappingConfig:
    """pi-GAN's mapping network: z -> ``hidden_layers`` x (Linear, LeakyReLU 0.2) -> the field's
    frequencies and phase shifts, ``(layers + 1) x width`` each."""

    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    z_dim: int = 256
    hidden: int = 256
    hidden_layers: int = 3
    layers: int = 8  # the field's FiLM layers (its colour layer takes one more modulation)
    width: int = 256  # the field's width

    def build(self) -> SirenMapping:
        return SirenMapping(self)


class SirenMapping(nn.Module):
    def __init__(self, config: SirenMappingConfig):
        super().__init__()
        self.config = config
        sizes = [config.z_dim] + [config.hidden] * config.hidden_layers
        blocks = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            blocks += [nn.Linear(a, b), nn.LeakyReLU(0.2, inplace=True)]
        self.hidden = nn.Sequential(*blocks)
        self.out = nn.Linear(sizes[-1], (config.layers + 1) * config.width * 2)
        with torch.no_grad():  # as published: He initialisation for LeakyReLU, the last layer a quarter of it
            for layer in [*(m for m in self.hidden if isinstance(m, nn.Linear)), self.out]:
                nn.init.kaiming_normal_(layer.weight, a=0.2, mode="fan_in", nonlinearity="leaky_relu")
            self.out.weight.mul_(0.25)

    def forward(self, z: torch.Tensor) -> Modulation:  # (N, z_dim) -> frequencies and phases (N, layers + 1, width)
        out = self.out(self.hidden(z)).view(len(z), 2, self.config.layers + 1, self.config.width)
        return Modulation(frequencies=out[:, 0] * FREQUENCY_SCALE + FREQUENCY_OFFSET, phases=out[:, 1])
