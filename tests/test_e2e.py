"""The whole DAG on the tiny profile, with real DVC, a real Prefect server and MLflow on SQLite."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from pipeline.lineage import dvc_md5
from tests.conftest import copy_repo, run, set_params, tool_env

pytestmark = pytest.mark.slow


def lock_hashes(repo) -> dict[str, dict[str, str]]:
    """{stage: {path: md5}} for every dep and out recorded in dvc.lock."""
    stages = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    return {name: {e["path"]: e["md5"] for e in st.get("deps", []) + st.get("outs", [])} for name, st in stages.items()}


def mlflow_runs(repo):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("lightstage")
    return client.search_runs([experiment.experiment_id], max_results=1000)


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("dvc") / "repo")
    run(["dvc", "repro"], cwd=repo)
    return repo


def test_dvc_repro_then_status_is_clean(reproduced):
    status = run(["dvc", "status"], cwd=reproduced)
    assert "up to date" in status.stdout
    stages = yaml.safe_load((reproduced / "dvc.yaml").read_text())["stages"]
    assert set(lock_hashes(reproduced)) == set(stages)
    metrics = json.loads((reproduced / "metrics" / "synth.json").read_text())
    assert metrics["subjects"] == 3 and metrics["lights"] == 16


def test_mlflow_holds_one_parent_with_a_nested_run_per_stage(reproduced):
    runs = mlflow_runs(reproduced)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    hashes = lock_hashes(reproduced)
    assert sorted(r.data.tags["lightstage.stage"] for r in children) == sorted(hashes)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=reproduced, capture_output=True, text=True).stdout.strip()
    for child in children:
        tags = child.data.tags
        assert tags["lightstage.git_commit"].startswith(head)
        expected = hashes[tags["lightstage.stage"]]
        logged = {k.split(".", 2)[2]: v for k, v in tags.items() if k.startswith(("dvc.dep.", "dvc.out."))}
        assert logged == {**expected, **{k: v for k, v in logged.items() if k.startswith("metrics/")}}
        assert child.data.params["base.profile"] == "tiny"
        assert child.data.metrics["stage_seconds"] > 0
        assert child.info.status == "FINISHED"


def test_preview_is_logged(reproduced):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{reproduced / 'mlflow.db'}")
    child = next(r for r in mlflow_runs(reproduced) if r.data.tags.get("lightstage.stage") == "synth")
    names = [a.path for a in client.list_artifacts(child.info.run_id, "preview")]
    assert "preview/synth_contact_sheet.png" in names


def test_second_repro_is_a_no_op(reproduced):
    before = len(mlflow_runs(reproduced))
    done = run(["dvc", "repro"], cwd=reproduced)
    assert "didn't change, skipping" in done.stdout
    assert len(mlflow_runs(reproduced)) == before


def test_failed_stage_keeps_previous_outputs(reproduced, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(reproduced, repo, symlinks=True)
    before = dvc_md5(repo / "data/raw/lightstage")
    broken = tmp_path / "real"
    shutil.copytree(repo / "data/raw", broken)
    (broken / "lightstage" / "s0000" / "v00" / "alpha.npy").write_bytes(b"not an array")
    set_params(repo / "params.yaml", ("base", "source"), str(broken))
    done = run(["dvc", "repro"], cwd=repo, check=False)
    assert done.returncode != 0
    assert f"{broken}/lightstage/s0000/v00/alpha.npy: not a readable .npy array" in done.stderr + done.stdout
    assert dvc_md5(repo / "data/raw/lightstage") == before


def test_prefect_flow_gives_the_same_outputs_as_dvc_repro(reproduced, prefect_api, tmp_path):
    repo = copy_repo(tmp_path / "repo")
    env = tool_env(PREFECT_API_URL=prefect_api)
    done = run(["python", "-m", "pipeline.flow", "run", "--root", str(repo), "--no-server"], cwd=repo, env=env)
    stages = lock_hashes(reproduced)
    assert all(f"{name}: ran" in done.stdout for name in stages)
    assert lock_hashes(repo) == lock_hashes(reproduced)
    assert "up to date" in run(["dvc", "status"], cwd=repo).stdout
    again = run(["python", "-m", "pipeline.flow", "run", "--root", str(repo), "--no-server"], cwd=repo, env=env)
    assert all(f"{name}: skipped" in again.stdout for name in stages)
    runs = mlflow_runs(repo)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 2 and all(p.info.status == "FINISHED" for p in parents)
    children = [r.data.tags["mlflow.parentRunId"] for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert sorted(children.count(p.info.run_id) for p in parents) == [0, len(stages)]  # the second flow ran nothing


def test_lightstage_relight_command(reproduced, tmp_path):
    """The trained chain on a photo: default trimap and background, then given ones; bad inputs fail cleanly."""
    import numpy as np

    from pipeline.io.arrays import load_png, save_png
    from pipeline.io.hdr import write_exr
    from pipeline.io.manifest import read_table
    from pipeline.synth.hdri import procedural_sky

    pairs = read_table(reproduced / "data/processed/relight/manifest.parquet")
    photo = reproduced / "data/processed/relight" / pairs.iloc[0]["composite_a"]
    sky = tmp_path / "sky.exr"
    write_exr(sky, procedural_sky(np.random.default_rng(5), 16).astype(np.float32))
    out = tmp_path / "out" / "relit.png"
    run(["lightstage", "relight", str(photo), "--hdri", str(sky), "-o", str(out), "--layers", str(tmp_path / "layers")], cwd=reproduced)
    picture, original = load_png(out), load_png(photo)
    assert picture.shape == original.shape and picture.std() > 0
    assert sorted(p.name for p in (tmp_path / "layers").iterdir()) == ["albedo.png", "alpha.png", "normals.png", "relit.png", "trimap.png"]
    background = tmp_path / "bg.png"
    save_png(background, np.full((7, 9, 3), (30, 160, 60), dtype=np.uint8))  # resized to the photo
    trimap = tmp_path / "trimap.png"
    save_png(trimap, np.where(load_png(tmp_path / "layers" / "trimap.png")[..., 0] > 0, 128, 0).astype(np.uint8))
    second = tmp_path / "second.png"
    run(["lightstage", "relight", str(photo), "--hdri", str(sky), "--background", str(background), "--trimap", str(trimap),
         "-o", str(second)], cwd=reproduced)
    corner = load_png(second)[0, 0].astype(int)  # pure background there: the given colour
    assert np.abs(corner - [30, 160, 60]).max() <= 2

    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG not really")
    bad = run(["lightstage", "relight", str(corrupt), "--hdri", str(sky), "-o", str(tmp_path / "bad.png")], cwd=reproduced, check=False)
    assert bad.returncode == 2 and f"{corrupt}: not a readable image" in bad.stderr and not (tmp_path / "bad.png").exists()
    nan_map = tmp_path / "nan.exr"
    broken = procedural_sky(np.random.default_rng(5), 16).astype(np.float32)
    broken[3, 4, 1] = np.nan
    write_exr(nan_map, broken)
    bad = run(["lightstage", "relight", str(photo), "--hdri", str(nan_map), "-o", str(tmp_path / "bad.png")], cwd=reproduced, check=False)
    assert bad.returncode == 2 and str(nan_map) in bad.stderr and not (tmp_path / "bad.png").exists()
