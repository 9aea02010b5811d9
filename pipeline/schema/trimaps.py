"""Section ``trimaps``: true and coarse trimaps of the light-stage views (stage ``trimaps``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from pipeline.config import Section


class TrimapsParams(Section):
    band_fraction: list[float] = Field(min_length=2, max_length=2, description="unknown band width range, as fractions of image size")
    fg_threshold: float = Field(gt=0.5, le=1.0, description="alpha at or above which a pixel is foreground")
    thin_fraction: float = Field(ge=0, le=0.2, description="coarse segmentation drops parts thinner than about twice this")
    jitter_fraction: float = Field(ge=0, le=0.2, description="coarse segmentation outline error, fraction of size")
    coarse_band_fraction: float = Field(gt=0, le=0.3, description="unknown band of the coarse trimap, fraction of size")

    @model_validator(mode="after")
    def _ordered(self) -> TrimapsParams:
        low, high = self.band_fraction
        if not 0 < low <= high <= 0.5:
            raise ValueError("band_fraction must be [low, high] with 0 < low <= high <= 0.5")
        return self


SCHEMA = TrimapsParams
