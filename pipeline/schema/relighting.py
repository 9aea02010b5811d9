"""What the three relighting training sections (geometry, albedo, shading) share. Not a section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from pipeline.config import Section
from pipeline.training import CropPhase, Schedule
from pipeline.schema.base import check_early_crops, check_model_and_crop

Intrinsics = Literal["predicted", "true"]


class RelightTrainParams(Section):
    """The training loop's settings; each section adds ``model``, its net's config dataclass."""

    steps: int = Field(ge=1, le=10_000_000)
    batch: int = Field(ge=1, le=1024)
    crop: int = Field(ge=8, le=4096, description="square training crops (fully convolutional nets; evaluation uses whole images)")
    early_crops: list[CropPhase] = Field(description="progressive resizing: [{steps, crop}, ...] trained first, in "
                                         "order, on smaller crops (cheaper steps), then `crop`; [] for `crop` throughout")
    learning_rate: float = Field(gt=0, le=1)
    schedule: Schedule = Field(description="the rate's schedule, every optimiser of the stage (critics too): "
                               "kind cosine or constant, warmup steps, floor (cosine's last share of the rate)")
    checkpoint_every: int = Field(ge=1)
    ema_half_life: float = Field(ge=0, description="steps: the saved net is an exponential moving average of the "
                                 "weights whose past halves every this many steps (Polyak averaging); 0: the last weights")

    @model_validator(mode="after")
    def _model_fits_crop(self) -> RelightTrainParams:
        check_model_and_crop(self.model, self.crop)
        check_early_crops(self.model, self.early_crops, self.crop, self.steps)
        self.schedule.check(self.steps)
        return self
