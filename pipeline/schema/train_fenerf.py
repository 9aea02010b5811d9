"""Section ``train_fenerf``: FENeRF's networks and how they are trained (stage ``train_fenerf``):
pi-GAN's section with FENeRF's generator and a second, semantic discriminator."""

from __future__ import annotations

from pydantic import Field, model_validator

from pipeline.gan3d.fenerf import FenerfConfig
from pipeline.gan3d.pigan_discriminator import PiganDiscriminatorConfig
from pipeline.schema.base import check_whole_numbers
from pipeline.schema.train_pigan import TrainPiganParams


class TrainFenerfParams(TrainPiganParams):
    model: FenerfConfig = Field(description="the generator: mapping {z_geometry, z_texture, hidden, hidden_layers, "
                                "layers, width}, field {layers, width, box_warp, init, classes, low_layer}, volume and "
                                "resolution as pi-GAN's")
    semantic: PiganDiscriminatorConfig = Field(description="the discriminator of (picture, segmentation) pairs: as "
                                               "discriminator, with channels = 3 + the field's classes")

    @model_validator(mode="after")
    def _semantic(self) -> TrainFenerfParams:
        check_whole_numbers(self.semantic, "semantic")
        if self.semantic.channels != 3 + self.model.field.classes:
            raise ValueError(f"semantic.channels ({self.semantic.channels}) must be 3 + model.field.classes "
                             f"({3 + self.model.field.classes}): RGB and the class probabilities")
        if self.semantic.max_resolution != self.discriminator.max_resolution:
            raise ValueError(f"semantic.max_resolution ({self.semantic.max_resolution}) must be "
                             f"discriminator.max_resolution ({self.discriminator.max_resolution}): both follow the curriculum")
        return self


SCHEMA = TrainFenerfParams
