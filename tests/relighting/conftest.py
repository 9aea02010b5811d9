"""A small relit dataset (synth -> lightmaps -> relight cores) shared by the relighting tests."""

import pytest

from pipeline.schema.base import BaseParams
from pipeline.schema.lightmaps import LightmapsParams
from pipeline.schema.relight import RelightParams
from pipeline.stage import StageContext
from stages import lightmaps, relight

BASE = BaseParams(seed=0, profile="tiny", source="synthetic")


@pytest.fixture(scope="session")
def relit_dataset(small_dataset, tmp_path_factory):
    root = tmp_path_factory.mktemp("relit")
    (root / "none").mkdir()
    maps = LightmapsParams(env_height=16, lightmap_height=8, real_hdris=str(root / "none"), procedural=True, real_test_fraction=0.5)
    lightmaps.run(StageContext(BASE, maps), {"hdri": small_dataset / "hdri", "real_hdris": root / "none"},
                  {"lightmaps": root / "lightmaps"})
    relight.run(StageContext(BASE, RelightParams(pairs_per_view=1, rotate=True, exposure_median=0.25)),
                {"lightstage": small_dataset / "lightstage", "lightmaps": root / "lightmaps"}, {"relight": root / "relight"})
    return {"relight": root / "relight", "lightstage": small_dataset / "lightstage", "lightmaps": root / "lightmaps"}
