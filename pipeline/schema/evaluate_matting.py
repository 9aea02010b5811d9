"""Section ``evaluate_matting``: the matting network against closed-form matting (stage ``evaluate_matting``)."""

from __future__ import annotations

from pydantic import Field

from pipeline.config import Section


class EvaluateMattingParams(Section):
    closed_form: bool = Field(description="also run closed-form matting (pymatting) as the classical baseline")
    max_images: int = Field(ge=1, description="test images evaluated (the first ones, in manifest order)")
    grid_rows: int = Field(ge=1, le=64, description="test images shown in the report grid")


SCHEMA = EvaluateMattingParams
