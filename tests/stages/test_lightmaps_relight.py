"""The lightmaps and relight stage cores on a small synthetic dataset, with real HDR fixtures."""

import numpy as np
import pytest

from pipeline import DataError
from pipeline.io.arrays import load_array
from pipeline.io.datasets import read_lightstage
from pipeline.io.hdr import write_exr, write_hdr
from pipeline.io.manifest import MANIFEST, read_table
from pipeline.light.pairs import light_view
from pipeline.schema.base import BaseParams
from pipeline.schema.lightmaps import LightmapsParams
from pipeline.schema.relight import RelightParams
from pipeline.stage import StageContext
from stages import lightmaps, relight

BASE = BaseParams(seed=0, profile="tiny", source="synthetic")


def lightmaps_ctx(real, procedural=True):
    return StageContext(BASE, LightmapsParams(env_height=16, lightmap_height=8, real_hdris=str(real),
                                              procedural=procedural, real_test_fraction=0.5, max_negative_share=1e-5))


@pytest.fixture
def real_maps(tmp_path):
    folder = tmp_path / "real"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_exr(folder / "studio.exr", rng.uniform(0, 3, (64, 128, 3)).astype(np.float32))
    write_hdr(folder / "beach.hdr", rng.uniform(0, 3, (32, 64, 3)).astype(np.float32))
    (folder / "notes.txt").write_text("ignored")
    return folder


def test_real_maps_beside_the_procedural_ones(small_dataset, real_maps, tmp_path):
    result = lightmaps.run(lightmaps_ctx(real_maps), {"hdri": small_dataset / "hdri", "real_hdris": real_maps},
                           {"lightmaps": tmp_path / "out"})
    manifest = read_table(tmp_path / "out" / MANIFEST)
    assert sorted(manifest.loc[manifest.kind == "real", "hdri"]) == ["real_beach", "real_studio"]
    assert result.metrics["maps"] == 5 and result.metrics["real_maps"] == 2
    assert set(manifest.loc[manifest.kind == "real", "split"]) == {"train", "test"}
    env = load_array(tmp_path / "out" / manifest.env[manifest.hdri == "real_studio"].item())
    assert env.shape == (16, 32, 3)
    for row in manifest.itertuples():
        assert load_array(tmp_path / "out" / row.phong).shape == (4, 8, 16, 3)
        assert 0 <= row.sh_rel_error_mean <= row.sh_rel_error_max


def test_real_maps_instead_of_the_procedural_ones(small_dataset, real_maps, tmp_path):
    lightmaps.run(lightmaps_ctx(real_maps, procedural=False), {"hdri": small_dataset / "hdri", "real_hdris": real_maps},
                  {"lightmaps": tmp_path / "out"})
    assert set(read_table(tmp_path / "out" / MANIFEST)["kind"]) == {"real"}


def test_a_bad_real_map_stops_the_stage_naming_it(small_dataset, real_maps, tmp_path):
    bad = np.ones((16, 32, 3), dtype=np.float32)
    bad[2, 2] = np.inf
    write_exr(real_maps / "broken.exr", bad)
    with pytest.raises(DataError, match=f"{real_maps / 'broken.exr'}: contains NaN or infinite"):
        lightmaps.run(lightmaps_ctx(real_maps), {"hdri": small_dataset / "hdri", "real_hdris": real_maps},
                      {"lightmaps": tmp_path / "out"})


def test_grids_must_nest():
    with pytest.raises(ValueError, match="multiple of lightmap_height"):
        LightmapsParams(env_height=16, lightmap_height=6, real_hdris="x", procedural=True, real_test_fraction=0.5, max_negative_share=1e-5)


@pytest.fixture(scope="module")
def relit(small_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("stages")
    empty = out / "no_real_maps"
    empty.mkdir()
    lightmaps.run(lightmaps_ctx(empty), {"hdri": small_dataset / "hdri", "real_hdris": empty}, {"lightmaps": out / "lightmaps"})
    ctx = StageContext(BASE, RelightParams(pairs_per_view=2, rotate=True, exposure_median=0.25))
    result = relight.run(ctx, {"lightstage": small_dataset / "lightstage", "lightmaps": out / "lightmaps"}, {"relight": out / "relight"})
    return out, result


def test_relight_manifest_records_ids_maps_rotations_and_splits(small_dataset, relit):
    out, result = relit
    manifest = read_table(out / "relight" / MANIFEST)
    views, _ = read_lightstage(small_dataset / "lightstage")
    assert len(manifest) == 2 * len(views) == result.metrics["pairs"]
    maps = read_table(out / "lightmaps" / MANIFEST).set_index("hdri")["split"]
    for row in manifest.itertuples():
        assert maps[row.hdri_a] == row.split and maps[row.hdri_b] == row.split  # no test map in training
        assert 0 <= row.rotation_a < 2 * np.pi and 0 <= row.rotation_b < 2 * np.pi
        assert load_array(out / "relight" / row.specular_b).shape == (4, 24, 24, 3)
    assert len(set(manifest.rotation_a)) > 1


def test_relit_image_equals_the_olat_sum(small_dataset, relit):
    out, _ = relit
    row = read_table(out / "relight" / MANIFEST).iloc[0]
    views, lights = read_lightstage(small_dataset / "lightstage")
    view = views[(views.subject == row.subject) & (views.view == row.view)].iloc[0]
    olat = np.asarray(load_array(small_dataset / "lightstage" / view.olat), dtype=np.float64)
    environments = relight.load_environments(out / "lightmaps")[1]
    turn = round(row.rotation_a / (2 * np.pi) * environments[row.hdri_a].diffuse.shape[1])
    env = environments[row.hdri_a].rotated(turn).env
    from pipeline.light.relight import light_weights

    expected = np.einsum("lhwc,lc->hwc", olat, light_weights(env, lights[["x", "y", "z"]].to_numpy()))
    assert np.allclose(load_array(out / "relight" / row.relit_a), expected, rtol=2e-3, atol=1e-4)


def test_negligible_negatives_are_cleared_and_counted_and_large_ones_refused(small_dataset, real_maps, tmp_path):
    from tests.io.test_hdr import sun_map

    speckled = sun_map(64, sun=(20, 70))
    write_exr(real_maps / "studio.exr", speckled)
    inputs = {"hdri": small_dataset / "hdri", "real_hdris": real_maps}
    result = lightmaps.run(lightmaps_ctx(real_maps), inputs, {"lightmaps": tmp_path / "out"})
    manifest = read_table(tmp_path / "out" / MANIFEST).set_index("hdri")
    expected = int((speckled < 0).any(axis=-1).sum())
    assert manifest.loc["real_studio", "negative_pixels"] == expected > 0
    assert 0 < manifest.loc["real_studio", "negative_share"] < 1e-6
    assert manifest.loc["real_studio", "negative_min"] == pytest.approx(float(speckled.min()))
    assert (manifest.drop(index="real_studio")["negative_pixels"] == 0).all()
    assert result.metrics["maps_with_negatives"] == 1 and result.metrics["negative_pixels"] == expected
    env = load_array(tmp_path / "out" / manifest.loc["real_studio", "env"])
    assert np.isfinite(env).all() and env.min() >= 0

    speckled[30, 10:20, 0] = -50.0  # a processing fault, not rounding: refused, naming the file
    write_exr(real_maps / "studio.exr", speckled)
    with pytest.raises(DataError, match=f"{real_maps / 'studio.exr'}: negative radiance carries .*\\(minimum -50"):
        lightmaps.run(lightmaps_ctx(real_maps), inputs, {"lightmaps": tmp_path / "again"})
