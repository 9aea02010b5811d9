"""pi-GAN's generator (SYSTEMS.md section 4): the mapping network turns z into the SIREN
field's frequencies and phase shifts, and the shared volume renderer (``pipeline/render``)
draws the field from EG3D's 25-float cameras, stratified then hierarchical samples.
Early in training pi-GAN adds Gaussian noise to the raw density before its activation
(``density_noise``, the standard deviation; the curriculum anneals it to 0), which keeps
the first samples of every ray in play while the density is still shapeless. The field's
colours are sigmoids, so pictures come out in [-1, 1] as ``2 * rgb - 1``, the GANs' range.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from pipeline.fields.siren import Modulation, SirenConfig, SirenField, SirenMappingConfig
from pipeline.render.field import FieldOutput
from pipeline.render.rays import camera_rays
from pipeline.render.volume import VolumeConfig, render_rays


@dataclass(frozen=True)
class PiganConfig:
    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    mapping: SirenMappingConfig = dataclasses.field(default_factory=SirenMappingConfig)
    field: SirenConfig = dataclasses.field(default_factory=SirenConfig)
    volume: VolumeConfig = dataclasses.field(default_factory=lambda: VolumeConfig(coarse_samples=12, fine_samples=12))
    resolution: int = 64  # the side of pictures rendered for people and evaluation (training follows its curriculum)

    def __post_init__(self):
        if (self.mapping.layers, self.mapping.width) != (self.field.layers, self.field.width):
            raise ValueError(f"mapping.layers and mapping.width ({self.mapping.layers}, {self.mapping.width}) must be "
                             f"the field's layers and width ({self.field.layers}, {self.field.width})")

    def build(self) -> PiganGenerator:
        return PiganGenerator(self)


class NoisyDensity(nn.Module):
    """A field whose raw density gets Gaussian noise of standard deviation ``std`` (0: none)."""

    def __init__(self, field: SirenField, std: float, generator: torch.Generator | None):
        super().__init__()
        self.field, self.std, self.generator = field, std, generator

    def forward(self, points: torch.Tensor, directions: torch.Tensor, modulation: Modulation) -> FieldOutput:
        out = self.field(points, directions, modulation)
        if self.std <= 0:
            return out
        noise = torch.randn(out.raw_density.shape, generator=self.generator, device=out.raw_density.device,
                            dtype=out.raw_density.dtype)
        return FieldOutput(raw_density=out.raw_density + self.std * noise, features=out.features)


class Generated(NamedTuple):
    image: torch.Tensor  # (N, 3, R, R) in [-1, 1]
    depth: torch.Tensor  # (N, 1, R, R) expected depth along each pixel's ray

    @property
    def raw(self) -> torch.Tensor:
        """The rendering itself (EG3D's raw image is the rendering before super-resolution; pi-GAN has none)."""
        return self.image


class PiganGenerator(nn.Module):
    def __init__(self, config: PiganConfig):
        super().__init__()
        self.config = config
        self.mapping = config.mapping.build()
        self.field = config.field.build()
        self._mean: Modulation | None = None  # the mean modulation truncation pulls towards (computed when first asked)

    @property
    def z_dim(self) -> int:
        return self.config.mapping.z_dim

    @torch.no_grad()
    def views(self, z: torch.Tensor, cameras: torch.Tensor, conditioning: torch.Tensor | None = None,
              truncation: float = 1.0) -> Generated:
        """What every 3D-aware generator answers (``pipeline.gan3d.sample``): the heads of ``z`` from
        ``cameras`` at ``config.resolution``, deterministic, without density noise. pi-GAN has no
        conditioning (ignored); ``truncation`` psi pulls frequencies and phase shifts towards their
        mean over z (computed once, ``mean_modulation``)."""
        modulation = self.mapping(z)
        if truncation < 1.0:
            if self._mean is None:
                self._mean = mean_modulation(self, count=4096)
            modulation = Modulation(*(m + truncation * (x - m) for x, m in zip(modulation, self._mean)))
        return self.render(modulation, cameras, self.config.resolution, deterministic=True)

    def mean_latent(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Where an inversion starts (``pipeline.gan3d.inversion``): the mean frequencies and phase shifts."""
        return tuple(mean_modulation(self))

    def render_latent(self, latent: tuple[torch.Tensor, torch.Tensor], cameras: torch.Tensor, resolution: int
                      ) -> torch.Tensor:
        """Pictures (N, 3, R, R) in [-1, 1] of frequencies and phase shifts ``latent`` from ``cameras``."""
        return self.render(Modulation(*latent), cameras, resolution, deterministic=True).image

    def train(self, mode: bool = True) -> PiganGenerator:
        self._mean = None  # the weights will change
        return super().train(mode)

    def forward(self, z: torch.Tensor, cameras: torch.Tensor, resolution: int, density_noise: float = 0.0,
                generator: torch.Generator | None = None, deterministic: bool = False,
                volume: VolumeConfig | None = None) -> Generated:
        """Pictures of the heads of ``z`` (N, z_dim) seen from ``cameras`` (N, 25), ``resolution`` pixels
        square. ``generator`` draws the depth samples and the density noise; ``deterministic``: bin
        centres and even quantiles instead of random depths (evaluation); ``volume``: other samples
        per ray than the config's (a curriculum's phase)."""
        return self.render(self.mapping(z), cameras, resolution, density_noise, generator, deterministic, volume)

    def render(self, modulation: Modulation, cameras: torch.Tensor, resolution: int, density_noise: float = 0.0,
               generator: torch.Generator | None = None, deterministic: bool = False,
               volume: VolumeConfig | None = None) -> Generated:
        """As ``forward``, from frequencies and phase shifts (inversion optimises these directly)."""
        n = len(cameras)
        rendered = render_rays(NoisyDensity(self.field, density_noise, generator), modulation,
                               camera_rays(cameras, resolution), volume or self.config.volume, generator, deterministic)
        image = rendered.features.transpose(1, 2).reshape(n, -1, resolution, resolution) * 2.0 - 1.0
        return Generated(image=image, depth=rendered.depth.transpose(1, 2).reshape(n, 1, resolution, resolution))


@torch.no_grad()
def mean_modulation(net: PiganGenerator, count: int = 10_000, seed: int = 0, batch: int = 1024) -> Modulation:
    """The mapping network's frequencies and phase shifts averaged over ``count`` random z (pi-GAN
    starts its inversions there)."""
    draws, device = torch.Generator().manual_seed(seed), next(net.parameters()).device
    frequencies = phases = 0.0
    for first in range(0, count, batch):
        z = torch.randn(min(batch, count - first), net.config.mapping.z_dim, generator=draws).to(device)
        out = net.mapping(z)
        frequencies, phases = frequencies + out.frequencies.sum(0), phases + out.phases.sum(0)
    return Modulation(frequencies=(frequencies / count)[None], phases=(phases / count)[None])
