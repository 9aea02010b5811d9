"""FENeRF's generator (Sun et al., CVPR 2022; SYSTEMS.md section 4): pi-GAN's FiLM-SIREN with a
semantic field, and separate latents for geometry and texture.

- **Two latents.** z is the concatenation of a geometry code and a texture code. The geometry
  code's mapping network modulates the trunk's FiLM layers, so it alone decides density and
  semantics; the texture code's modulates only the colour layer. Changing the texture code
  repaints a head without moving a point of it (``tests/gan3d/test_fenerf.py``).
- **Semantic field.** Besides density and colour the field gives per-point logits over the
  label set of the synthetic light stage (``pipeline.io.datasets.LABELS``: background, skin,
  hair, eyes, brows, lips, neck, shoulders); their softmax is composited along each ray like
  colour, and the light that passes through the whole volume counts as background, so every
  pixel's class probabilities sum to 1.
- **Fused features.** The semantic head reads the trunk's output together with an earlier
  layer's (``low_layer``): coarse, low-level features beside the high-level ones (the
  feature pyramid of FENeRF, here two levels of the one SIREN).

The rest is pi-GAN's (``pipeline.gan3d.pigan``): the same renderer, density noise, sampling,
truncation and inversion interface; ``views`` returns the segmentation beside the picture.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from pipeline.fields.siren import FREQUENCY_FACTOR, Modulation, SirenConfig, SirenField, SirenMappingConfig
from pipeline.gan3d.pigan import NoisyDensity, PiganGenerator
from pipeline.io.datasets import LABELS
from pipeline.render.field import FieldOutput
from pipeline.render.rays import camera_rays
from pipeline.render.volume import VolumeConfig, render_rays

BACKGROUND = LABELS.index("background")


@dataclass(frozen=True)
class SemanticSirenConfig(SirenConfig):
    classes: int = len(LABELS)  # semantic classes (the light stage's label set)
    low_layer: int = 4  # the FiLM layer (1-based) whose output the semantic head reads beside the last's

    def __post_init__(self):
        if not 1 <= self.low_layer <= self.layers:
            raise ValueError(f"field.low_layer ({self.low_layer}) must be one of the field's layers 1 ... {self.layers}")

    def build(self) -> SemanticSirenField:
        return SemanticSirenField(self)


class SemanticSirenField(SirenField):
    """``Field`` whose features are RGB (3) then class probabilities (``classes``)."""

    def __init__(self, config: SemanticSirenConfig):
        super().__init__(config)
        self.semantic = nn.Linear(2 * config.width, config.classes)
        if config.init == "published":
            with torch.no_grad():
                bound = math.sqrt(6 / self.semantic.weight.shape[1]) / FREQUENCY_FACTOR
                self.semantic.weight.uniform_(-bound, bound)

    def forward(self, points: torch.Tensor, directions: torch.Tensor, modulation: Modulation) -> FieldOutput:
        pre: list[torch.Tensor] = []
        x = self.trunk(points, modulation, pre)
        low = torch.sin(pre[self.config.low_layer - 1])
        probabilities = torch.softmax(self.semantic(torch.cat([low, x], dim=-1)), dim=-1)
        return FieldOutput(raw_density=self.density(x),
                           features=torch.cat([self.colour(x, directions, modulation), probabilities], dim=-1))


@dataclass(frozen=True)
class FenerfMappingConfig:
    """Two of pi-GAN's mapping networks: the geometry code to the trunk's ``layers`` FiLM layers, the
    texture code to the colour layer."""

    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    z_geometry: int = 256
    z_texture: int = 256
    hidden: int = 256
    hidden_layers: int = 3
    layers: int = 8  # the field's FiLM layers
    width: int = 256  # the field's width

    @property
    def z_dim(self) -> int:
        return self.z_geometry + self.z_texture

    def build(self) -> SplitMapping:
        return SplitMapping(self)


class SplitMapping(nn.Module):
    """z (N, z_geometry + z_texture) -> one ``Modulation`` (N, layers + 1, width): the geometry
    code's for the trunk, the texture code's for the colour layer."""

    def __init__(self, config: FenerfMappingConfig):
        super().__init__()
        self.config = config
        # a SirenMapping makes modulations for its ``layers`` and one more (pi-GAN's colour layer)
        self.geometry = SirenMappingConfig(config.z_geometry, config.hidden, config.hidden_layers, config.layers - 1,
                                           config.width).build()
        self.texture = SirenMappingConfig(config.z_texture, config.hidden, config.hidden_layers, 0,
                                          config.width).build()

    def forward(self, z: torch.Tensor) -> Modulation:
        geometry = self.geometry(z[:, :self.config.z_geometry])
        texture = self.texture(z[:, self.config.z_geometry:])
        return Modulation(*(torch.cat([g, t], dim=1) for g, t in zip(geometry, texture)))


@dataclass(frozen=True)
class FenerfConfig:
    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    mapping: FenerfMappingConfig = dataclasses.field(default_factory=FenerfMappingConfig)
    field: SemanticSirenConfig = dataclasses.field(default_factory=SemanticSirenConfig)
    volume: VolumeConfig = dataclasses.field(default_factory=lambda: VolumeConfig(coarse_samples=12, fine_samples=12))
    resolution: int = 64  # the side of pictures rendered for people and evaluation

    def __post_init__(self):
        if (self.mapping.layers, self.mapping.width) != (self.field.layers, self.field.width):
            raise ValueError(f"mapping.layers and mapping.width ({self.mapping.layers}, {self.mapping.width}) must be "
                             f"the field's layers and width ({self.field.layers}, {self.field.width})")

    def build(self) -> FenerfGenerator:
        return FenerfGenerator(self)


class SemanticGenerated(NamedTuple):
    image: torch.Tensor  # (N, 3, R, R) in [-1, 1]
    depth: torch.Tensor  # (N, 1, R, R)
    segmentation: torch.Tensor  # (N, classes, R, R) class probabilities, summing to 1 at each pixel

    @property
    def raw(self) -> torch.Tensor:
        return self.image


class FenerfGenerator(PiganGenerator):
    """pi-GAN's generator with FENeRF's mapping and semantic field (``FenerfConfig``)."""

    def render(self, modulation: Modulation, cameras: torch.Tensor, resolution: int, density_noise: float = 0.0,
               generator: torch.Generator | None = None, deterministic: bool = False,
               volume: VolumeConfig | None = None) -> SemanticGenerated:
        n = len(cameras)
        rendered = render_rays(NoisyDensity(self.field, density_noise, generator), modulation,
                               camera_rays(cameras, resolution), volume or self.config.volume, generator, deterministic)

        def square(x: torch.Tensor) -> torch.Tensor:  # (N, rays, C) -> (N, C, R, R)
            return x.transpose(1, 2).reshape(n, -1, resolution, resolution)

        probabilities = rendered.features[..., 3:]
        passed = 1.0 - rendered.opacity  # what no point stopped is background
        background = probabilities[..., BACKGROUND:BACKGROUND + 1] + passed
        probabilities = torch.cat([probabilities[..., :BACKGROUND], background, probabilities[..., BACKGROUND + 1:]], -1)
        return SemanticGenerated(image=square(rendered.features[..., :3]) * 2.0 - 1.0, depth=square(rendered.depth),
                                 segmentation=square(probabilities))
