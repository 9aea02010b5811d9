"""Section ``lightmaps``: HDR maps brought to one size and prefiltered (stage ``lightmaps``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from pipeline.config import Section


class LightmapsParams(Section):
    env_height: int = Field(ge=8, le=1024, description="working height of every HDR map (width twice)")
    lightmap_height: int = Field(ge=2, le=512, description="height of the prefiltered light-map grids")
    real_hdris: str = Field(min_length=1, description="folder of real equirect .hdr/.exr maps (may be empty)")
    procedural: bool = Field(description="use synth's procedural maps; false: only the real ones")
    real_test_fraction: float = Field(gt=0, lt=1, description="share of real maps held out for testing")
    max_negative_share: float = Field(ge=0, lt=1, description="negative radiance up to this share of a map's energy "
                                      "is set to 0 (real maps carry some from their processing); more is refused")

    @model_validator(mode="after")
    def _grids_nest(self) -> LightmapsParams:
        if self.env_height % self.lightmap_height:
            raise ValueError("env_height must be a multiple of lightmap_height (rotations stay on both grids)")
        return self


SCHEMA = LightmapsParams
