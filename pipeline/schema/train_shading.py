"""Section ``train_shading``: the Shading Net (Specular Net + Neural Renderer) and how it is
trained (stage ``train_shading``)."""

from __future__ import annotations

from pydantic import Field

from pipeline.models.relighting import ShadingConfig
from pipeline.schema.relighting import Intrinsics, RelightTrainParams


class TrainShadingParams(RelightTrainParams):
    model: ShadingConfig = Field(
        description="specular: the Specular Net's U-Net (published: widths 8 ... 256, bottleneck 256); renderer: "
        "the Neural Renderer's (published: 32 ... 512, bottleneck 512) and its output: direct (the relit image, "
        "published) or residual (added to albedo x diffuse map)")
    intrinsics: Intrinsics = Field(description="normals and albedo it trains on: predicted by the trained nets (what inference feeds) or true")
    loss_l1: float = Field(ge=0)
    loss_specular: float = Field(ge=0, description="L1 weighted by the luminance of S_hat (highlights)")
    loss_gradient: float = Field(ge=0, description="multi-scale gradient L1, our stand-in for the VGG perceptual term")
    adversarial_weight: float = Field(ge=0, description="WGAN-GP term (critic without sigmoid, penalty 10); 0 disables the critic")
    critic_widths: list[int] = Field(min_length=1, description="the patch critic's convolution widths (each halves "
                                     "the resolution); [16, 32, 64] costs 0.84x the step of [32, 64, 128]")
    penalty_every: int = Field(ge=1, description="the critic's gradient penalty every this many steps, that many times "
                               "heavier (lazy regularisation, as StyleGAN2's R1); 1: every step, as published")


SCHEMA = TrainShadingParams
