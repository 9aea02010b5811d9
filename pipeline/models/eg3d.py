"""EG3D's generator (Chan et al. 2022): a StyleGAN2 backbone draws three feature planes, the
shared renderer marches the tri-plane field into a low-resolution feature image whose first
three channels are RGB, and a super-resolution module of modulated blocks brings it to the
output size.

z and the conditioning camera (25 floats) go through one mapping network; the camera the
image is rendered from is a separate argument, so training can swap the conditioning pose
(EG3D's generator pose conditioning) while rendering from the true one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from pipeline.camera.eg3d import CAMERA_FLOATS
from pipeline.fields.triplane import TriplaneConfig
from pipeline.nn.stylegan import Discriminator, MappingNetwork, run_blocks, SynthesisBlock, SynthesisNetwork
from pipeline.render.rays import camera_rays
from pipeline.render.volume import render_rays, VolumeConfig


@dataclass(frozen=True)
class EG3DConfig:
    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    z_dim: int = 512
    w_dim: int = 512
    mapping_layers: int = 2  # EG3D's map_depth
    plane_resolution: int = 256
    channel_base: int = 32768  # the backbone's widths: channel_base / resolution, at most channel_max
    channel_max: int = 512
    neural_resolution: int = 128  # the super-resolution's input side (EG3D renders 64 in its first phase, upsampled to this)
    output_resolution: int = 512  # neural_resolution times a power of two
    sr_channels: int = 128  # width of the super-resolution blocks
    triplane: TriplaneConfig = field(default_factory=TriplaneConfig)
    volume: VolumeConfig = field(default_factory=VolumeConfig)

    def __post_init__(self):
        ratio = self.output_resolution / self.neural_resolution
        if ratio < 2 or not ratio.is_integer() or int(ratio) & (int(ratio) - 1):
            raise ValueError(f"output_resolution ({self.output_resolution}) must be neural_resolution "
                             f"({self.neural_resolution}) times 2, 4, 8, ...")

    def build(self) -> EG3DGenerator:
        return EG3DGenerator(self)


class Generated(NamedTuple):
    image: torch.Tensor  # (N, 3, output, output), about [-1, 1]
    raw: torch.Tensor  # (N, 3, rendered, rendered): the rendered RGB before super-resolution
    depth: torch.Tensor  # (N, 1, neural, neural): expected depth along each ray
    features: torch.Tensor  # (N, C, neural, neural): the whole rendered feature image


class EG3DGenerator(nn.Module):
    def __init__(self, config: EG3DConfig):
        super().__init__()
        self.config = config
        self.backbone = SynthesisNetwork(config.w_dim, config.plane_resolution, 3 * config.triplane.channels,
                                         config.channel_base, config.channel_max)
        self.field = config.triplane.build()
        upsamplings = int(math.log2(config.output_resolution // config.neural_resolution))
        widths = [config.triplane.features] + [config.sr_channels] * upsamplings
        self.superresolution = nn.ModuleList(
            SynthesisBlock(a, b, config.w_dim, 3, first=False, noise=False) for a, b in zip(widths[:-1], widths[1:]))
        self.num_ws = self.backbone.num_ws + sum(block.num_ws for block in self.superresolution)
        self.mapping = MappingNetwork(config.z_dim, CAMERA_FLOATS, config.w_dim, self.num_ws, config.mapping_layers)

    def planes(self, ws: torch.Tensor, use_noise: bool = True) -> torch.Tensor:
        """ws (N, num_ws, w_dim) -> the tri-plane (N, 3, C, H, W)."""
        image = self.backbone(ws[:, :self.backbone.num_ws], use_noise)
        return image.reshape(image.shape[0], 3, self.config.triplane.channels, *image.shape[2:])

    @property
    def z_dim(self) -> int:
        return self.config.z_dim

    @torch.no_grad()
    def views(self, z: torch.Tensor, cameras: torch.Tensor, conditioning: torch.Tensor | None = None,
              truncation: float = 1.0) -> Generated:
        """What every 3D-aware generator answers (``pipeline.gan3d.sample``): the heads of ``z`` from
        ``cameras``, conditioned on ``conditioning`` (default: the cameras themselves), with
        truncation ``psi``, rendered deterministically without noise inputs."""
        ws = self.mapping(z, cameras if conditioning is None else conditioning, truncation)
        return self.synthesis(ws, cameras, deterministic=True, use_noise=False)

    def mean_latent(self) -> tuple[torch.Tensor]:
        """Where an inversion starts (``pipeline.gan3d.inversion``): the tracked mean w (1, w_dim)."""
        return (self.mapping.w_avg[None].clone(),)

    def render_latent(self, latent: tuple[torch.Tensor], cameras: torch.Tensor, resolution: int) -> torch.Tensor:
        """Pictures (N, 3, R, R) in [-1, 1] of one w (1, w_dim) for every layer from ``cameras``,
        deterministic and without noise, brought to ``resolution`` (area or bilinear)."""
        ws = latent[0][:, None].expand(len(cameras), self.num_ws, -1)
        image = self.synthesis(ws, cameras, deterministic=True, use_noise=False).image
        if image.shape[-1] != resolution:
            image = F.interpolate(image, size=(resolution, resolution), mode="bilinear", align_corners=False,
                                  antialias=True)
        return image

    def synthesis(self, ws: torch.Tensor, cameras: torch.Tensor, generator: torch.Generator | None = None,
                  neural_resolution: int | None = None, deterministic: bool = False, use_noise: bool = True) -> Generated:
        """Images of ``ws`` seen from ``cameras`` (N, 25), rendered at ``neural_resolution`` rays per
        side (default the config's); a lower one (EG3D's first phase) is upsampled to the config's
        before super-resolution, so the output size stays the config's."""
        resolution = neural_resolution or self.config.neural_resolution
        planes = self.planes(ws, use_noise)
        rendered = render_rays(self.field, planes, camera_rays(cameras, resolution), self.config.volume, generator,
                               deterministic)
        features = rendered.features.transpose(1, 2).reshape(ws.shape[0], -1, resolution, resolution)
        depth = rendered.depth.transpose(1, 2).reshape(ws.shape[0], 1, resolution, resolution)
        x = features
        if resolution != self.config.neural_resolution:
            x = F.interpolate(features, size=(self.config.neural_resolution,) * 2, mode="bilinear", align_corners=False,
                              antialias=True)
        _, image = run_blocks(self.superresolution, x, x[:, :3], ws[:, self.backbone.num_ws:], use_noise=False)
        return Generated(image=image, raw=features[:, :3], depth=depth, features=features)

    def forward(self, z: torch.Tensor, conditioning: torch.Tensor, cameras: torch.Tensor, truncation: float = 1.0,
                generator: torch.Generator | None = None, neural_resolution: int | None = None,
                deterministic: bool = False, use_noise: bool = True) -> Generated:
        # z (N, z_dim), conditioning and cameras (N, 25)
        ws = self.mapping(z, conditioning, truncation)
        return self.synthesis(ws, cameras, generator, neural_resolution, deterministic, use_noise)


@dataclass(frozen=True)
class DualDiscriminatorConfig:
    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    resolution: int = 512  # the generator's output_resolution
    channel_base: int = 32768
    channel_max: int = 512
    mapping_layers: int = 2  # of the camera's embedding

    def build(self) -> DualDiscriminator:
        return DualDiscriminator(self)


class DualDiscriminator(nn.Module):
    """EG3D's dual discrimination: the super-resolved image and the raw rendered image, brought
    to the same size (bilinear with antialiasing; EG3D filters with its own kernel), stacked into
    6 channels for a StyleGAN2 residual discriminator conditioned on the camera (25 floats)."""

    def __init__(self, config: DualDiscriminatorConfig):
        super().__init__()
        self.config = config
        self.net = Discriminator(config.resolution, 6, CAMERA_FLOATS, config.channel_base, config.channel_max,
                                 mapping_layers=config.mapping_layers)

    @staticmethod
    def stack(image: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        """image (N, 3, R, R) and raw (N, 3, r, r) -> the dual input (N, 6, R, R)."""
        raw = F.interpolate(raw, size=image.shape[-2:], mode="bilinear", align_corners=False, antialias=True)
        return torch.cat([image, raw], dim=1)

    def score(self, dual: torch.Tensor, cameras: torch.Tensor) -> torch.Tensor:
        """The dual input (N, 6, R, R) (augmented, for training) and cameras (N, 25) -> scores (N, 1)."""
        return self.net(dual, cameras)

    def forward(self, image: torch.Tensor, raw: torch.Tensor, cameras: torch.Tensor) -> torch.Tensor:
        return self.score(self.stack(image, raw), cameras)
