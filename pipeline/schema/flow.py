"""Section ``flow``: the Prefect flow (pipeline/flow.py), not a stage."""

from __future__ import annotations

from pydantic import Field

from pipeline.config import Section


class FlowParams(Section):
    retries: int = Field(ge=0, le=10, description="retries of a failed stage task")
    retry_delay_s: float = Field(ge=0, le=3600, description="seconds between retries")
    max_workers: int = Field(ge=1, le=64, description="stages run at once on independent branches")


SCHEMA = FlowParams
