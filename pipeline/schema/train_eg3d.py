"""Section ``train_eg3d``: EG3D's networks and how they are trained (stage ``train_eg3d``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from pipeline.gan3d.eg3d import EG3DRecipe
from pipeline.models.eg3d import DualDiscriminatorConfig, EG3DConfig
from pipeline.schema.base import check_whole_numbers
from pipeline.schema.gan import GanTrainParams


class TrainEG3DParams(GanTrainParams):
    model: EG3DConfig = Field(description="the generator: z_dim, w_dim, mapping_layers, plane_resolution, channel_base, "
                              "channel_max, neural_resolution (rays per side before super-resolution), "
                              "output_resolution, sr_channels, triplane {channels, hidden, features, box_warp, "
                              "plane_axes: released | clean}, volume {near, far, coarse_samples, fine_samples}")
    discriminator: DualDiscriminatorConfig = Field(description="resolution (the generator's output_resolution), "
                                                   "channel_base, channel_max, mapping_layers (the camera's embedding)")
    recipe: EG3DRecipe = Field(description="rates, R1 (gamma, every), the fading blur, generator pose conditioning "
                               "(swap probability and its ramp), the density regulariser, DiffAugment policies, the "
                               "EMA's half-life in images and ramp-up, and the rendering phases [{steps, resolution}]")
    batch: int = Field(ge=1, le=4096, description="the total batch (EG3D: 32 on 8 GPUs)")
    truncation: float = Field(ge=0, le=1, description="psi of the sample grids and turntable (1: none; EG3D shows 0.7)")

    @model_validator(mode="after")
    def _consistent(self) -> TrainEG3DParams:
        check_whole_numbers(self.model, "model")
        check_whole_numbers(self.discriminator, "discriminator")
        if self.discriminator.resolution != self.model.output_resolution:
            raise ValueError(f"discriminator.resolution ({self.discriminator.resolution}) must be "
                             f"model.output_resolution ({self.model.output_resolution})")
        for k, phase in enumerate(self.recipe.rendering):
            if not 1 <= phase.resolution <= self.model.neural_resolution or phase.steps < 1:
                raise ValueError(f"recipe.rendering[{k}]: resolution must be 1 to model.neural_resolution "
                                 f"({self.model.neural_resolution}), steps at least 1")
        if sum(phase.steps for phase in self.recipe.rendering) >= self.steps:
            raise ValueError("recipe.rendering: the phases must end before steps")
        if self.recipe.r1_every < 1 or self.recipe.density_every < 1:
            raise ValueError("recipe.r1_every and recipe.density_every must be at least 1")
        return self


SCHEMA = TrainEG3DParams
