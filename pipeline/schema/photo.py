"""Section ``photo``: ``lightstage relight`` on a user's photograph (pipeline/relighting/photo.py), not a stage."""

from __future__ import annotations

from pydantic import Field

from pipeline.config import Section


class PhotoParams(Section):
    working_size: int = Field(ge=64, le=4096, description="the nets run with the photo's longer side at most this many "
                              "pixels; alpha and the relighting are brought back to the photo's size")


SCHEMA = PhotoParams
