import shlex
from pathlib import Path

import pytest
import yaml

from pipeline import ConfigError
from pipeline.config import PROFILES, SECTIONS, load_params
from pipeline.lineage import read_dvc_stage
from tests.conftest import ROOT, run, set_params, tool_env


@pytest.fixture
def params_file(tmp_path: Path) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text((ROOT / "params.yaml").read_text())
    return path


def test_repository_params_validate_for_every_profile(params_file):
    for profile in PROFILES:
        set_params(params_file, ("base", "profile"), profile)
        params = load_params(params_file)
        assert params.base.profile == profile
        assert set(params.sections) == set(SECTIONS)


def test_profile_overrides_apply(params_file):
    set_params(params_file, ("base", "profile"), "tiny")
    tiny = load_params(params_file).section("synth")
    raw = yaml.safe_load(params_file.read_text())
    assert tiny.resolution == raw["profiles"]["tiny"]["synth"]["resolution"]
    assert tiny.max_yaw_deg == raw["synth"]["max_yaw_deg"]  # not overridden: the section's value


@pytest.mark.parametrize("key, value, message", [
    (("synth", "subjects"), "eight", "synth.subjects"),
    (("synth", "resolution"), 4, "synth.resolution"),
    (("synth", "colour"), 1, "synth.colour"),
    (("base", "profile"), "huge", "base.profile"),
    (("base", "seed"), -1, "base.seed"),
    (("flow", "retries"), 1.5, "flow.retries"),
    (("profiles", "tiny", "synth", "lights"), 0, "profiles.tiny.synth.lights"),
    (("profiles", "paper", "synth", "typo"), 3, "profiles.paper.synth.typo"),
    (("profiles", "huge"), {}, "profiles.huge"),
    (("training",), {}, "training"),
])
def test_bad_values_name_the_file_and_key(params_file, key, value, message):
    set_params(params_file, key, value)
    with pytest.raises(ConfigError) as err:
        load_params(params_file)
    assert str(params_file) in str(err.value)
    assert f": {message}" in str(err.value)


def test_cross_field_check(params_file):
    set_params(params_file, ("synth", "test_subjects"), 100)
    with pytest.raises(ConfigError, match="test_subjects must be smaller than subjects"):
        load_params(params_file)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("base: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(broken)


def test_stage_stops_before_any_work_on_bad_params(repo):
    set_params(repo / "params.yaml", ("synth", "lights"), "many")
    stage = read_dvc_stage("synth", repo / "dvc.yaml")
    metrics = repo / stage.metrics[0]
    before = metrics.read_bytes() if metrics.exists() else None
    done = run(shlex.split(stage.cmd), cwd=repo, env=tool_env(), check=False)
    assert done.returncode == 2
    assert "params.yaml: synth.lights" in done.stderr
    assert not (repo / "data" / "raw").exists()
    assert (metrics.read_bytes() if metrics.exists() else None) == before
