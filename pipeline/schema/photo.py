"""Section ``photo``: ``lightstage relight`` on a user's photograph (pipeline/relighting/photo.py), not a stage."""

from __future__ import annotations

from pydantic import Field

from pipeline.config import Section


class PhotoParams(Section):
    working_size: int = Field(ge=64, le=4096, description="the nets run with the photo's longer side at most this many "
                              "pixels; alpha and the relighting are brought back to the photo's size")
    face_weight: float = Field(ge=0, le=1, description="metering over the map's background: where it is brighter than "
                               "the face, the exposure falls by (face / background) ** (1 - face_weight); 1 exposes "
                               "for the face alone")
    highlight_knee: float = Field(gt=0, lt=1, description="exposed linear radiance above this rolls off towards white "
                                  "instead of clipping")


SCHEMA = PhotoParams
