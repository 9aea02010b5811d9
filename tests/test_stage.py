"""The stage shell: the MLflow run opens at the start, takes curves while the core runs, and ends
FINISHED or FAILED with the error; several processes relaunch under torchrun."""

from __future__ import annotations

import json
import shlex
import tempfile
from pathlib import Path

import pytest
import yaml

from pipeline import DataError
from pipeline.schema.synth import SynthParams
from pipeline.stage import StageContext, StageResult, stage_main
from tests.conftest import ROOT, run, tool_env

DVC_YAML = {"stages": {"synth": {"cmd": "python -m stages.synth", "deps": ["input.txt"], "outs": ["out"],
                                 "metrics": ["metrics.json"]}}}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A folder with params.yaml, a one-stage dvc.yaml and an input, as the stage's cwd."""
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML))
    (tmp_path / "input.txt").write_text("data")
    monkeypatch.chdir(tmp_path)
    for name in ("MLFLOW_TRACKING_URI", "LIGHTSTAGE_PARENT_RUN_ID", "LIGHTSTAGE_NPROC"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def main(core) -> int:
    argv = ["--metrics", "metrics.json", "--input", "input.txt", "--out", "out"]
    return stage_main("synth", core, schema=SynthParams, inputs=("input",), outputs=("out",), argv=argv)


def runs(root: Path) -> dict[str, object]:
    """{'stage': run, 'parent': run} from the workspace's MLflow store."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    found = client.search_runs([client.get_experiment_by_name("lightstage").experiment_id])
    by_role = {("stage" if "mlflow.parentRunId" in r.data.tags else "parent"): r for r in found}
    assert len(found) == 2 and set(by_role) == {"stage", "parent"}
    return by_role


def curve(root: Path, run_id: str, name: str) -> list[tuple[int, float]]:
    from mlflow.tracking import MlflowClient

    history = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}").get_metric_history(run_id, name)
    return sorted((m.step, m.value) for m in history)


def test_a_run_streams_its_curves_and_ends_finished(workspace):
    seen = {}

    def core(ctx: StageContext, inputs, outputs) -> StageResult:
        seen["run"] = runs(workspace)["stage"]  # already open while the core runs
        ctx.log_history([(1, {"total": 3.0}), (2, {"total": 2.0})])
        ctx.log_history([(3, {"total": 1.0})])
        (outputs["out"] / "result.txt").write_text("ok")
        return StageResult(metrics={"score": 1.5}, history=[(1, {"total": 99.0})])  # streamed already: not logged again

    assert main(core) == 0
    assert seen["run"].info.status == "RUNNING" and seen["run"].data.params["base.profile"] == "default"
    assert seen["run"].data.tags["dvc.dep.input.txt"] and seen["run"].data.tags["lightstage.device"] == "cpu"
    done = runs(workspace)
    assert done["stage"].info.status == "FINISHED" and done["parent"].info.status == "FINISHED"
    assert done["stage"].data.metrics["score"] == 1.5 and "dvc.out.out" in done["stage"].data.tags
    assert curve(workspace, done["stage"].info.run_id, "train/total") == [(1, 3.0), (2, 2.0), (3, 1.0)]
    assert json.loads((workspace / "metrics.json").read_text()) == {"score": 1.5}


def test_a_whole_history_is_logged_at_the_end(workspace):
    def core(ctx, inputs, outputs):
        return StageResult(metrics={}, history=[(1, {"total": 2.0}), (2, {"total": 1.0})])

    assert main(core) == 0
    assert curve(workspace, runs(workspace)["stage"].info.run_id, "train/total") == [(1, 2.0), (2, 1.0)]


def test_a_lightstage_error_fails_the_run_and_its_parent(workspace, capsys):
    def core(ctx, inputs, outputs):
        ctx.log_history([(1, {"total": 3.0})])
        raise DataError("input.txt: not a readable table")

    assert main(core) == 2
    assert "stages.synth: error: input.txt: not a readable table" in capsys.readouterr().err
    done = runs(workspace)
    for role in ("stage", "parent"):
        assert done[role].info.status == "FAILED"
        assert "input.txt: not a readable table" in done[role].data.tags["lightstage.error"]
        assert "input.txt: not a readable table" in done[role].data.tags["mlflow.note.content"]
    assert curve(workspace, done["stage"].info.run_id, "train/total") == [(1, 3.0)]  # what was streamed stays
    assert not (workspace / "out").exists() and not (workspace / "metrics.json").exists()


@pytest.mark.parametrize("error", [ZeroDivisionError("division by zero"), KeyboardInterrupt()])
def test_other_exceptions_fail_the_run_and_propagate(workspace, error):
    def core(ctx, inputs, outputs):
        raise error

    with pytest.raises(type(error)):
        main(core)
    done = runs(workspace)
    assert done["stage"].info.status == "FAILED" and done["parent"].info.status == "FAILED"
    assert done["stage"].data.tags["lightstage.error"].startswith(type(error).__name__)


def test_a_missing_input_is_a_failed_run(workspace, capsys):
    (workspace / "input.txt").unlink()
    assert main(lambda ctx, inputs, outputs: StageResult(metrics={})) == 2
    assert "input.txt: input 'input' not found" in runs(workspace)["stage"].data.tags["lightstage.error"]


def test_bad_execution_settings_exit_2(workspace, monkeypatch, capsys):
    monkeypatch.setenv("LIGHTSTAGE_THREADS", "many")
    assert main(lambda ctx, inputs, outputs: StageResult(metrics={})) == 2
    assert "LIGHTSTAGE_THREADS='many'" in capsys.readouterr().err


@pytest.mark.slow
def test_several_processes_relaunch_under_torchrun(tmp_path):
    """LIGHTSTAGE_NPROC=2: the stage reruns itself under torchrun; rank 0 alone writes outputs and
    the MLflow run, the other rank's throwaway outputs are gone."""
    from tests.conftest import copy_repo

    repo = copy_repo(tmp_path / "repo")
    stage = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]["synth"]
    run(shlex.split(stage["cmd"]), cwd=repo, env=tool_env(LIGHTSTAGE_NPROC="2", LIGHTSTAGE_THREADS="1"))
    assert json.loads((repo / "metrics/synth.json").read_text())["subjects"] == 3
    done = runs(repo)
    assert done["stage"].data.tags["lightstage.processes"] == "2" and done["stage"].info.status == "FINISHED"
    assert not list(Path(tempfile.gettempdir()).glob("lightstage-rank1-*"))
    assert not list((repo / "data/raw").glob(".*.tmp"))
