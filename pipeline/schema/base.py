"""Section ``base``: what every stage reads (seed, profile, data source), and the checks the
training sections share."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import Field

from pipeline.config import Profile, Section

SYNTHETIC = "synthetic"


class BaseParams(Section):
    seed: int = Field(ge=0, description="seed for every random choice in the pipeline")
    profile: Profile = Field(description="tiny (tests), default (laptop CPU), paper (GPU)")
    source: str = Field(
        min_length=1,
        description="'synthetic' for the embedded synthetic light stage, or a folder "
        "holding a real dataset in the same layout (lightstage/, hdri/)",
    )


SCHEMA = BaseParams


def check_model_and_crop(model: Any, crop: int) -> None:
    """A training section's model config against its crop: every whole number in the config
    (widths, bottlenecks) is at least 1, and square crops of ``crop`` pixels pass through all
    of the model's down-sampling levels (``model.divisor``). Raises ValueError for pydantic."""
    check_whole_numbers(model, "model")
    if crop % model.divisor:
        raise ValueError(f"crop must be a multiple of {model.divisor}, the input size multiple of model "
                         f"(got crop {crop})")


def check_whole_numbers(config: Any, key: str) -> None:
    """Every whole number in a (nested) config dataclass, widths and sizes, is at least 1.
    Raises ValueError for pydantic."""
    for name, number in _whole_numbers(config, key):
        if number < 1:
            raise ValueError(f"{name} must be at least 1 (got {number})")


def check_early_crops(model: Any, phases: list, crop: int, steps: int) -> None:
    """Progressive-resizing phases: each crop fits the model and is no larger than ``crop``, and the
    phases end before the last step. Raises ValueError for pydantic."""
    for k, phase in enumerate(phases):
        if phase.steps < 1 or phase.crop < 1 or phase.crop % model.divisor or phase.crop > crop:
            raise ValueError(f"early_crops[{k}]: crop must be a multiple of {model.divisor} and at most crop ({crop}), "
                             f"steps at least 1 (got crop {phase.crop}, steps {phase.steps})")
    if sum(phase.steps for phase in phases) >= steps:
        raise ValueError(f"early_crops: their steps ({sum(p.steps for p in phases)}) must end before steps ({steps})")


def _whole_numbers(value: Any, key: str) -> list[tuple[str, int]]:
    """(dotted key, number) for every int inside a nested config dataclass (not bools)."""
    if dataclasses.is_dataclass(value):
        return [pair for f in dataclasses.fields(value) for pair in _whole_numbers(getattr(value, f.name), f"{key}.{f.name}")]
    if isinstance(value, (tuple, list)):
        return [pair for i, item in enumerate(value) for pair in _whole_numbers(item, f"{key}.{i}")]
    if isinstance(value, int) and not isinstance(value, bool):
        return [(key, value)]
    return []
