"""The relighting module of Total Relighting: Geometry Net, Albedo Net and the Shading Net
(Specular Net + Neural Renderer), each a U-Net of pipeline/nn/unet.py.

Conventions. Input ``image``: the matted foreground, sRGB in [0, 1] premultiplied
by alpha (black where alpha is 0), as exposed for the face. Normals: unit vectors
in camera space (OpenCV axes). Albedo: linear reflectance in [0, 1]. Light maps
and the relit foreground: linear radiance divided by the target map's mean
radiance (pipeline/relighting/data.py ``light_scale``), so their values are of
order one whatever the map's brightness; relighting is linear in the map, so
this loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from pipeline.nn.unet import UNet, UNetConfig

LIGHT_MAPS = 4  # Phong light maps, exponents 1, 16, 32, 64 (pipeline.light.prefilter.PHONG_EXPONENTS)


@dataclass(frozen=True)
class NetConfig:
    # params.yaml's train_*.model validates into these configs (pipeline/schema/): YAML lists
    # become tuples, unknown keys are errors. A plain dict: models do not import pydantic.
    __pydantic_config__ = {"strict": False, "extra": "forbid"}

    widths: tuple[int, ...]  # U-Net encoder widths; the decoder mirrors them
    bottleneck: int
    norm: bool = False

    @property
    def unet(self) -> UNetConfig:
        return UNetConfig(widths=tuple(self.widths), bottleneck=self.bottleneck, norm=self.norm)

    @property
    def divisor(self) -> int:
        return self.unet.divisor


@dataclass(frozen=True)
class GeometryConfig(NetConfig):
    def build(self) -> GeometryNet:
        return GeometryNet(self)


@dataclass(frozen=True)
class AlbedoConfig(NetConfig):
    def build(self) -> AlbedoNet:
        return AlbedoNet(self)


@dataclass(frozen=True)
class SpecularConfig(NetConfig):
    def build(self) -> SpecularNet:
        return SpecularNet(self)


@dataclass(frozen=True)
class RendererConfig(NetConfig):
    # ``direct``: the U-Net's output is the relit foreground (as published). ``residual``
    # (ours): it is added to albedo x diffuse light map, so the network learns only what
    # Lambertian shading misses (shadows, highlights, subsurface tint): far fewer steps to train.
    output: Literal["direct", "residual"] = "direct"

    def build(self) -> NeuralRenderer:
        return NeuralRenderer(self)


@dataclass(frozen=True)
class ShadingConfig:
    """The Shading Net: a Specular Net and a Neural Renderer, trained together."""

    __pydantic_config__ = NetConfig.__pydantic_config__

    specular: SpecularConfig
    renderer: RendererConfig

    @property
    def divisor(self) -> int:
        return max(self.specular.divisor, self.renderer.divisor)  # powers of two: the larger is a multiple of the other

    def build(self) -> ShadingNet:
        return ShadingNet(self.specular.build(), self.renderer.build())


class GeometryNet(nn.Module):
    """Foreground -> unit surface normals."""

    def __init__(self, config: NetConfig):
        super().__init__()
        self.config = config
        self.unet = UNet(3, 3, config.unet)

    def forward(self, image: torch.Tensor) -> torch.Tensor:  # (B, 3, H, W) -> (B, 3, H, W) unit vectors
        return F.normalize(self.unet(image), dim=1, eps=1e-6)


class AlbedoNet(nn.Module):
    """Foreground and normals (6 channels) -> albedo in [0, 1]."""

    def __init__(self, config: NetConfig):
        super().__init__()
        self.config = config
        self.unet = UNet(6, 3, config.unet)

    def forward(self, image: torch.Tensor, normals: torch.Tensor) -> torch.Tensor:  # (B, 3, H, W) x2 -> (B, 3, H, W)
        return torch.sigmoid(self.unet(torch.cat([image, normals], dim=1)))


class SpecularNet(nn.Module):
    """Phong light maps, albedo and foreground -> per-pixel weights over the light maps
    (a softmax: a convex blend, so S_hat stays within the maps' range)."""

    def __init__(self, config: NetConfig):
        super().__init__()
        self.config = config
        self.unet = UNet(3 * LIGHT_MAPS + 6, LIGHT_MAPS, config.unet)

    def forward(self, specular: torch.Tensor, albedo: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        # specular (B, K, 3, H, W); albedo, image (B, 3, H, W) -> weights (B, K, H, W)
        inputs = torch.cat([specular.flatten(1, 2), albedo, image], dim=1)
        return torch.softmax(self.unet(inputs), dim=1)


class NeuralRenderer(nn.Module):
    """Albedo, diffuse light map and the specular light map S_hat -> relit foreground (straight, not premultiplied)."""

    def __init__(self, config: RendererConfig):
        super().__init__()
        self.config = config
        self.unet = UNet(9, 3, config.unet)

    def forward(self, albedo: torch.Tensor, diffuse: torch.Tensor, specular_hat: torch.Tensor) -> torch.Tensor:
        # (B, 3, H, W) each -> (B, 3, H, W); may dip below zero (clamped by the caller at inference)
        out = self.unet(torch.cat([albedo, diffuse, specular_hat], dim=1))
        return albedo * diffuse + out if self.config.output == "residual" else out


class Shading(NamedTuple):
    relit: torch.Tensor  # (B, 3, H, W) straight colour, light-scale units
    weights: torch.Tensor  # (B, K, H, W)
    specular_hat: torch.Tensor  # (B, 3, H, W) S_hat = sum_n W_n S_n


class ShadingNet(nn.Module):
    """Specular Net then Neural Renderer (injected, trained together)."""

    def __init__(self, specular: SpecularNet, renderer: NeuralRenderer):
        super().__init__()
        self.config = ShadingConfig(specular.config, renderer.config)
        self.specular = specular
        self.renderer = renderer

    @property
    def divisor(self) -> int:
        return self.config.divisor

    def forward(self, image: torch.Tensor, albedo: torch.Tensor, diffuse: torch.Tensor,
                specular: torch.Tensor) -> Shading:
        # image, albedo, diffuse (B, 3, H, W); specular light maps (B, K, 3, H, W)
        weights = self.specular(specular, albedo, image)
        specular_hat = (weights[:, :, None] * specular).sum(dim=1)
        return Shading(relit=self.renderer(albedo, diffuse, specular_hat), weights=weights, specular_hat=specular_hat)
