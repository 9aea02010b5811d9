"""Section ``evaluate_relighting``: the relighting chain on held-out pairs (stage ``evaluate_relighting``)."""

from __future__ import annotations

from pydantic import Field

from pipeline.config import Section


class EvaluateRelightingParams(Section):
    max_cases: int = Field(ge=1, description="test pairs evaluated (the first ones, in manifest order), each in both directions")
    grid_rows: int = Field(ge=1, le=64, description="test cases shown in the report grid")
    temporal_frames: int = Field(ge=3, le=4096, description="K: frames of the map's 360-degree turn (must divide the light-map width)")
    exposure_median: float = Field(gt=0, le=1, description="pictures are compared exposed so the subject's median luminance is this")


SCHEMA = EvaluateRelightingParams
