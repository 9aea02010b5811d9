"""dvc.yaml is the one graph: every stage's code deps are exactly the files it imports, and
its params are exactly the keys it reads."""

import shlex

import pytest
import yaml

from pipeline.config import load_params, schema_modules, schema_of
from pipeline.lineage import read_dvc_stage
from tests.conftest import ROOT
from tests.deps import code_deps, imported_project_files, is_code, rewrite

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_code_deps_are_exactly_the_imported_files(name):
    stage = read_dvc_stage(name, ROOT / "dvc.yaml")
    assert stage.cmd.startswith(f"python -m stages.{name} ")
    listed = [dep for dep in stage.deps if is_code(dep)]
    assert listed == code_deps(name), f"stage {name}: run python -m tests.deps --write"
    assert stage.deps[:len(listed)] == tuple(listed), "code deps come first, then data"


def test_deps_tool_finds_nothing_to_rewrite():
    text = (ROOT / "dvc.yaml").read_text()
    assert rewrite(text) == text


def test_imports_inside_functions_count():
    assert "pipeline/relighting/photo.py" in imported_project_files("pipeline.cli")  # imported in relight_command


def test_a_stage_depends_on_its_own_schema_only():
    files = set(code_deps("synth"))
    assert {"pipeline/config.py", "pipeline/schema/base.py", "pipeline/schema/synth.py"} <= files
    assert not {f for f in files if f.startswith("pipeline/schema/")} - {
        "pipeline/schema/__init__.py", "pipeline/schema/base.py", "pipeline/schema/synth.py"}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_params_are_the_stage_section(name):
    stage = read_dvc_stage(name, ROOT / "dvc.yaml")
    assert name in schema_modules() and schema_of(name) is not None
    assert sorted(stage.params) == sorted(load_params(ROOT / "params.yaml").stage_keys(name))


@pytest.mark.parametrize("name", sorted(STAGES))
def test_command_paths_are_the_declared_deps_and_outs(name):
    stage = read_dvc_stage(name, ROOT / "dvc.yaml")
    words = shlex.split(stage.cmd)
    paths = [words[i + 1] for i, w in enumerate(words) if w.startswith("--") and i + 1 < len(words)]
    declared = set(stage.deps) | set(stage.outs) | set(stage.metrics) | set(stage.plots)
    assert set(paths) <= declared, f"{name}: command paths {set(paths) - declared} are not declared in dvc.yaml"
    assert set(stage.outs) | set(stage.metrics) | set(stage.plots) <= set(paths)
    assert all(out.startswith(("data/", "reports/")) for out in stage.outs)
    assert all(m.startswith("metrics/") for m in stage.metrics)
    assert all(p.startswith("plots/") for p in stage.plots)
