"""dvc.yaml is the one graph: every stage's deps cover the code it imports, and its
params are exactly the keys it reads."""

import ast
import shlex

import pytest
import yaml

from pipeline.config import SECTIONS, load_params
from pipeline.lineage import read_dvc_stage
from tests.conftest import ROOT

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _module_file(module: str) -> str | None:
    """The project file defining ``module`` (a package's __init__.py), or None if not ours."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return str(candidate.relative_to(ROOT))
    return None


def imported_project_files(module: str) -> set[str]:
    """Project files ``module`` imports, transitively, including imports inside functions
    (found by reading the source, so lazily imported modules count too)."""
    seen: set[str] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        path = _module_file(name)
        if path is None or path in seen:
            continue
        seen.add(path)
        parts = name.split(".")
        for parent in range(1, len(parts)):  # importing a.b.c runs a/__init__ and a/b/__init__
            pending.append(".".join(parts[:parent]))
        for node in ast.walk(ast.parse((ROOT / path).read_text())):
            if isinstance(node, ast.Import):
                pending.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                pending.append(node.module)
                pending.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return seen


@pytest.mark.parametrize("name", sorted(STAGES))
def test_deps_cover_imported_code(name):
    stage = read_dvc_stage(name, ROOT / "dvc.yaml")
    assert stage.cmd.startswith(f"python -m stages.{name} ")
    files = imported_project_files(f"stages.{name}")
    assert f"stages/{name}.py" in files
    for path in files:
        if path == "stages/__init__.py":
            continue
        covered = any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in stage.deps)
        assert covered, f"stage {name} imports {path} but dvc.yaml does not list it in deps"
    for dep in stage.deps:
        if dep.startswith(("pipeline", "stages")):
            assert any(f == dep or f.startswith(dep + "/") for f in files), f"stage {name} lists {dep} but never imports it"


@pytest.mark.parametrize("name", sorted(STAGES))
def test_params_are_the_stage_section(name):
    stage = read_dvc_stage(name, ROOT / "dvc.yaml")
    assert name in SECTIONS
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
