import shlex
import sys
from pathlib import Path

import pytest
import yaml

import pipeline.schema
from pipeline import ConfigError
from pipeline.config import PROFILES, flatten, load_params, load_section, schema_modules, schema_of
from pipeline.lineage import read_dvc_stage
from pipeline.models.matting import MattingConfig
from pipeline.models.relighting import RendererConfig, ShadingConfig, SpecularConfig
from pipeline.schema.train_matting import TrainMattingParams
from pipeline.schema.train_shading import TrainShadingParams
from tests.conftest import ROOT, run, set_params, tool_env

SECTIONS = {name for name in schema_modules() if name != "base" and schema_of(name) is not None}


@pytest.fixture
def params_file(tmp_path: Path) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text((ROOT / "params.yaml").read_text())
    return path


def test_every_section_has_its_schema_module():
    assert SECTIONS == {"synth", "lightmaps", "relight", "trimaps", "train_matting", "evaluate_matting", "train_geometry",
                        "train_albedo", "train_shading", "evaluate_relighting", "poses", "train_eg3d", "train_pigan",
                        "train_fenerf", "evaluate_gan", "flow", "photo"}
    assert "relighting" in schema_modules() and schema_of("relighting") is None  # shared, not a section


def test_repository_params_validate_for_every_profile(params_file):
    for profile in PROFILES:
        set_params(params_file, ("base", "profile"), profile)
        params = load_params(params_file)
        assert params.base.profile == profile
        assert set(params.sections) == SECTIONS


def test_profile_overrides_apply(params_file):
    set_params(params_file, ("base", "profile"), "tiny")
    tiny = load_params(params_file).section("synth")
    raw = yaml.safe_load(params_file.read_text())
    assert tiny.resolution == raw["profiles"]["tiny"]["synth"]["resolution"]
    assert tiny.max_yaw_deg == raw["synth"]["max_yaw_deg"]  # not overridden: the section's value


def test_a_profile_can_be_asked_for(params_file):
    paper = load_params(params_file, profile="paper")
    assert paper.base.profile == "paper" and paper.section("train_matting").model.widths == (32, 64, 128, 256, 512)
    with pytest.raises(ConfigError, match="profile 'huge'"):
        load_params(params_file, profile="huge")


def test_model_configs_are_the_model_classes(params_file):
    params = load_params(params_file, profile="default")
    matting = params.section("train_matting").model
    assert type(matting) is MattingConfig and matting.widths == (16, 32, 64, 128, 256)  # a YAML list, as a tuple
    shading = params.section("train_shading").model
    assert type(shading) is ShadingConfig
    assert type(shading.specular) is SpecularConfig and type(shading.renderer) is RendererConfig
    assert shading.renderer.output == "residual" and shading.specular.widths == (4, 8, 16, 32, 64, 64)


def test_profile_overrides_merge_deeply(params_file):
    before = load_params(params_file, profile="tiny").section("train_shading").model
    set_params(params_file, ("profiles", "tiny", "train_shading", "model", "renderer"), {"widths": [8, 16]})
    tiny = load_params(params_file, profile="tiny").section("train_shading").model
    assert tiny.renderer.widths == (8, 16)
    assert tiny.renderer.bottleneck == 128 and tiny.renderer.output == "residual"  # now the section's
    assert tiny.specular == before.specular  # the profile's override, untouched


def test_flatten_joins_nested_keys(params_file):
    flat = flatten(load_params(params_file, profile="tiny").section("train_shading"), "train_shading")
    assert flat["train_shading.model.renderer.widths"] == [4, 8] and flat["train_shading.model.specular.bottleneck"] == 4
    assert "train_shading.model" not in flat


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
    (("profiles", "tiny", "base"), {"seed": 1}, "profiles.tiny.base"),
    (("training",), {}, "training"),
    (("relighting",), {}, "relighting"),  # a shared schema module, not a section
    (("train_matting", "threads"), 2, "train_matting.threads"),  # an execution setting, not a param
    (("train_matting", "model", "typo"), 1, "train_matting.model.typo"),
    (("train_matting", "model", "widths"), [8, 16.5, 32], "train_matting.model.widths.1"),
    (("profiles", "tiny", "train_shading", "model", "renderer", "widths"), [4, "x"],
     "profiles.tiny.train_shading.model.renderer.widths.1"),
    (("profiles", "paper", "train_shading", "model", "specular", "output"), "direct",
     "profiles.paper.train_shading.model.specular.output"),
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


@pytest.mark.parametrize("section, key, value, divisor", [
    ("train_matting", ("crop",), 40, 16),  # 5 levels: 2^4
    ("train_geometry", ("crop",), 32, 64),  # 6 U-Net levels: 2^6
    ("train_shading", ("model", "specular", "widths"), [4, 8, 16, 32, 64, 64, 64], 128),  # the deeper net decides
])
def test_crop_must_pass_through_every_level(params_file, section, key, value, divisor):
    set_params(params_file, (section, *key), value)
    with pytest.raises(ConfigError, match=f"{section}: .*crop must be a multiple of {divisor}"):
        load_params(params_file)


def test_model_numbers_must_be_positive(params_file):
    set_params(params_file, ("profiles", "tiny", "train_geometry", "model", "bottleneck"), 0)
    with pytest.raises(ConfigError, match="profiles.tiny.train_geometry: .*model.bottleneck must be at least 1"):
        load_params(params_file)


def test_a_stage_validates_base_and_its_own_section_only(params_file):
    set_params(params_file, ("synth", "subjects"), "eight")  # another stage's problem
    params = load_section(params_file, TrainMattingParams)
    assert set(params.sections) == {"train_matting"} and params.base.profile == "default"
    with pytest.raises(ConfigError, match="synth.subjects"):
        load_params(params_file)
    set_params(params_file, ("profiles", "paper", "train_shading", "model", "renderer", "bottleneck"), -3)
    with pytest.raises(ConfigError, match="profiles.paper.train_shading: .*model.renderer.bottleneck must be at least 1"):
        load_section(params_file, TrainShadingParams)  # every profile's override of its section


@pytest.mark.parametrize("key", [("trainig_matting",), ("profiles", "tiny", "train_matings")])
def test_a_stage_rejects_unknown_section_names(params_file, key):
    set_params(params_file, key, {})
    with pytest.raises(ConfigError, match=f"{'.'.join(key)}: unknown section"):
        load_section(params_file, TrainMattingParams)


@pytest.fixture
def new_section(tmp_path, monkeypatch):
    """A section added the way a new stage adds one: a schema module in pipeline.schema."""
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "train_dummy.py").write_text(
        "from pydantic import Field\n\nfrom pipeline.config import Section\n\n\n"
        "class TrainDummyParams(Section):\n    steps: int = Field(ge=1)\n\n\nSCHEMA = TrainDummyParams\n")
    monkeypatch.setattr(pipeline.schema, "__path__", [*pipeline.schema.__path__, str(folder)])
    yield "train_dummy"
    sys.modules.pop("pipeline.schema.train_dummy", None)


def test_a_new_section_needs_only_its_schema_module(params_file, new_section):
    set_params(params_file, (new_section,), {"steps": 3})
    for profile in PROFILES:
        set_params(params_file, ("profiles", profile, new_section), {"steps": 1} if profile == "tiny" else {})
    assert load_params(params_file, profile="tiny").section(new_section).steps == 1
    written = yaml.safe_load((ROOT / "params.yaml").read_text())["train_matting"]["steps"]
    assert load_section(params_file, TrainMattingParams).section("train_matting").steps == written
    set_params(params_file, (new_section, "steps"), 0)
    with pytest.raises(ConfigError, match="train_dummy.steps"):
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


@pytest.mark.parametrize("section, phases, message", [
    ("train_geometry", [{"steps": 10, "crop": 32}], r"early_crops\[0\]: crop must be a multiple of 64"),
    ("train_matting", [{"steps": 10, "crop": 64}], r"early_crops\[0\]: .*at most crop \(48\)"),
    ("train_matting", [{"steps": 6000, "crop": 32}], r"early_crops: their steps \(6000\) must end before steps"),
    ("train_matting", [{"steps": 10, "size": 32}], r"early_crops\.0\.crop: Field required"),
])
def test_early_crops_must_fit_the_model_and_the_run(params_file, section, phases, message):
    set_params(params_file, (section, "early_crops"), phases)
    with pytest.raises(ConfigError, match=f"{section}.*{message}"):
        load_params(params_file)


def test_a_warm_up_longer_than_the_run_is_refused(params_file):
    """train_matting warms its rate up over `schedule.warmup` steps: a run shorter than that would
    never train at `learning_rate`, so the params are refused, naming the key."""
    set_params(params_file, ("train_matting", "steps"), 100)
    set_params(params_file, ("train_matting", "early_crops"), [])
    with pytest.raises(ConfigError, match=r"train_matting.*schedule.warmup \(150\) must end before steps \(100\)"):
        load_params(params_file)
    set_params(params_file, ("train_matting", "steps"), 151)
    assert load_params(params_file).section("train_matting").schedule.warmup == 150
    set_params(params_file, ("train_shading", "schedule", "warmup"), 2000)  # the relighting nets: the same check
    with pytest.raises(ConfigError, match=r"train_shading.*schedule.warmup \(2000\) must end before steps"):
        load_params(params_file)


def test_matting_background_shares_must_leave_room(params_file):
    set_params(params_file, ("train_matting", "texture_share"), 0.6)
    set_params(params_file, ("train_matting", "clutter_share"), 0.5)
    with pytest.raises(ConfigError, match="texture_share \\+ clutter_share is 1.1"):
        load_params(params_file)
