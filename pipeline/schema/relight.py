"""Section ``relight``: relit training pairs and composites (stage ``relight``)."""

from __future__ import annotations

from pydantic import Field

from pipeline.config import Section


class RelightParams(Section):
    pairs_per_view: int = Field(ge=1, le=1000, description="relit pairs (two maps) per subject view")
    rotate: bool = Field(description="turn each map by a random angle about the vertical")
    exposure_median: float = Field(gt=0, le=1, description="composites: linear luminance of the subject's median pixel")


SCHEMA = RelightParams
