"""Section ``train_matting``: the matting network and how it is trained (stage ``train_matting``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from pipeline.config import Section
from pipeline.training import CropPhase, Precision, Schedule
from pipeline.models.matting import MattingConfig
from pipeline.schema.base import check_early_crops, check_model_and_crop


class TrainMattingParams(Section):
    model: MattingConfig = Field(description="the network: widths (encoder; published 32 ... 512), guidance "
                                 "(colour-guidance inputs), norm (group normalisation; the paper names none)")
    steps: int = Field(ge=1, le=10_000_000)
    batch: int = Field(ge=1, le=1024)
    crop: int = Field(ge=16, le=4096, description="square training crops (fully convolutional net)")
    early_crops: list[CropPhase] = Field(description="progressive resizing: [{steps, crop}, ...] trained first, in "
                                         "order, on smaller crops (cheaper steps), then `crop`; [] for `crop` throughout")
    learning_rate: float = Field(gt=0, le=1)
    schedule: Schedule = Field(description="the rate's schedule, every optimiser of the stage (critics too): "
                               "kind cosine or constant, warmup steps, floor (cosine's last share of the rate)")
    coarse_share: float = Field(ge=0, le=1, description="share of samples given a coarse trimap")
    texture_share: float = Field(ge=0, le=1, description="share of samples over a procedural texture")
    clutter_share: float = Field(ge=0, le=1, description="share of samples over an indoor clutter (the face set's "
                                 "backdrops); the rest go over other views' maps")
    band_fraction: list[float] = Field(min_length=2, max_length=2, description="generated-trimap band widths")
    loss_alpha: float = Field(ge=0)
    loss_composition: float = Field(ge=0)
    loss_foreground: float = Field(ge=0)
    loss_trimap: float = Field(ge=0)
    loss_gradient: float = Field(ge=0)
    adversarial_weight: float = Field(ge=0, description="WGAN-GP term; 0 disables the critic")
    penalty_every: int = Field(ge=1, description="the critic's gradient penalty every this many steps, that many times "
                               "heavier (lazy regularisation, as StyleGAN2's R1); 1: every step, as published")
    precision: Precision = Field(description="float32; bfloat16: convolutions under mixed precision, weights kept in "
                                 "float32 (faster on CPUs with AVX512-BF16 or AMX and on GPUs, 8x slower on an AVX2 "
                                 "CPU); auto: bfloat16 where the device has it natively, else float32")
    checkpoint_every: int = Field(ge=1)
    ema_half_life: float = Field(ge=0, description="steps: the saved model is an exponential moving average of the "
                                 "weights whose past halves every this many steps (Polyak averaging); 0: the last weights")

    @model_validator(mode="after")
    def _model_fits_crop(self) -> TrainMattingParams:
        if self.texture_share + self.clutter_share > 1:
            raise ValueError(f"texture_share + clutter_share is {self.texture_share + self.clutter_share}, over 1")
        check_model_and_crop(self.model, self.crop)
        check_early_crops(self.model, self.early_crops, self.crop, self.steps)
        self.schedule.check(self.steps)
        return self


SCHEMA = TrainMattingParams
