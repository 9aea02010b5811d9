"""The whole DAG on the tiny profile, with real DVC, a real Prefect server and MLflow on SQLite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import yaml

from pipeline.lineage import dvc_md5
from tests.conftest import copy_repo, run, set_params, tool_env

pytestmark = pytest.mark.slow


def lock_hashes(repo) -> dict[str, dict[str, str]]:
    """{stage: {path: md5}} for every dep and out recorded in dvc.lock."""
    stages = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    return {name: {e["path"]: e["md5"] for e in st.get("deps", []) + st.get("outs", [])} for name, st in stages.items()}


def mlflow_client(repo):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{repo / 'mlflow.db'}")


def mlflow_runs(repo):
    client = mlflow_client(repo)
    experiment = client.get_experiment_by_name("lightstage")
    return client.search_runs([experiment.experiment_id], max_results=1000)


def break_source(repo, tmp_path):
    """Point ``base.source`` at a copy of the raw data with one corrupt file; return that file."""
    broken = tmp_path / "real"
    shutil.copytree(repo / "data/raw", broken)
    corrupt = broken / "lightstage" / "s0000" / "v00" / "alpha.npy"
    corrupt.write_bytes(b"not an array")
    set_params(repo / "params.yaml", ("base", "source"), str(broken))
    return corrupt


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
        assert tags["lightstage.device"] == "cpu" and tags["lightstage.processes"] == "1"
    assert parents[0].info.status == "FINISHED"
    matting = next(r for r in children if r.data.tags["lightstage.stage"] == "train_matting")
    assert matting.data.params["train_matting.model.widths"] == "[8, 16, 32]"
    curve = mlflow_client(reproduced).get_metric_history(matting.info.run_id, "train/total")
    assert sorted(m.step for m in curve) == list(range(1, 13))  # tiny: 12 steps


def test_preview_is_logged(reproduced):
    client = mlflow_client(reproduced)
    child = next(r for r in mlflow_runs(reproduced) if r.data.tags.get("lightstage.stage") == "synth")
    names = [a.path for a in client.list_artifacts(child.info.run_id, "preview")]
    assert "preview/synth_contact_sheet.png" in names


def test_eg3d_leaves_snapshots_grids_and_a_turntable_and_samples_from_the_command_line(reproduced, tmp_path):
    from pipeline.io.arrays import load_png

    model = reproduced / "data/models/eg3d"
    assert sorted(p.name for p in (model / "snapshots").iterdir()) == ["step0000002.pt", "step0000004.pt"]
    assert sorted(p.name for p in (model / "grids").iterdir()) == ["step0000002.png", "step0000004.png"]
    assert (model / "turntable.mp4").stat().st_size > 0
    child = next(r for r in mlflow_runs(reproduced) if r.data.tags.get("lightstage.stage") == "train_eg3d")
    names = [a.path for a in mlflow_client(reproduced).list_artifacts(child.info.run_id, "preview")]
    assert "preview/train_eg3d_turntable.mp4" in names and "preview/train_eg3d_samples.png" in names
    done = run(["lightstage", "sample", "--model", str(model), "--seeds", "0-2", "--yaw", "-20,20", "--scale", "1",
                "-o", str(tmp_path / "grid.png"), "--turntable", str(tmp_path / "turn.mp4"), "--frames", "6"], cwd=reproduced)
    assert "3 seeds x 2 yaws" in done.stdout
    grid = load_png(tmp_path / "grid.png")
    assert grid.shape[0] > 3 * 16 and grid.shape[1] > 2 * 16  # three rows, two columns of 16-pixel heads, labelled
    assert (tmp_path / "turn.mp4").stat().st_size > 0
    bad = run(["lightstage", "sample", "--model", str(tmp_path / "none"), "-o", str(tmp_path / "x.png")],
              cwd=reproduced, check=False)
    assert bad.returncode == 2 and "checkpoint not found" in bad.stderr and not (tmp_path / "x.png").exists()


def test_pigan_follows_its_curriculum_and_samples_from_the_command_line(reproduced, tmp_path):
    from pipeline.io.arrays import load_png

    model = reproduced / "data/models/pigan"
    assert sorted(p.name for p in (model / "snapshots").iterdir()) == ["step0000002.pt", "step0000004.pt"]
    assert (model / "turntable.mp4").stat().st_size > 0
    history = (reproduced / "plots" / "train_pigan.csv").read_text().splitlines()
    columns = history[0].split(",")
    alphas = [float(line.split(",")[columns.index("alpha")]) for line in history[1:]]
    assert alphas == [1.0, 1.0, 0.0, 1.0]  # tiny: 8 px for two steps, then 16 px faded in over one
    done = run(["lightstage", "sample", "--model", str(model), "--seeds", "0-1", "--yaw", "-20,20", "--scale", "1",
                "-o", str(tmp_path / "grid.png")], cwd=reproduced)
    assert "2 seeds x 2 yaws" in done.stdout
    assert load_png(tmp_path / "grid.png").shape[0] > 2 * 16  # two rows of 16-pixel heads (model.resolution), labelled
    foreign = tmp_path / "matting.pt"
    shutil.copy(reproduced / "data/models/matting/model.pt", foreign)
    bad = run(["lightstage", "sample", "--model", str(foreign), "-o", str(tmp_path / "x.png")], cwd=reproduced, check=False)
    assert bad.returncode == 2 and "not a 3D-aware generator" in bad.stderr and not (tmp_path / "x.png").exists()


def test_evaluate_gan_tables_every_generator_against_real_baselines(reproduced):
    metrics = json.loads((reproduced / "metrics" / "evaluate_gan.json").read_text())
    assert metrics["images_per_set"] == 8 and metrics["resolution"] == 16
    for row in ("real_split", "eg3d", "eg3d_init", "pigan", "pigan_init", "fenerf", "fenerf_init"):
        assert all(isinstance(metrics[row][k], float) and np.isfinite(metrics[row][k])
                   for k in ("fid", "kid", "kid_std", "swd_16", "swd_mean"))
        assert 0 <= metrics[row]["pose_found"] <= 1 and 0 <= metrics[row]["identity_found"] <= 1  # NaN scores where 0
        if row != "real_split":
            assert 0 < metrics[row]["multiview_covisible"] <= 1 and metrics[row]["multiview_error"] >= 0
    assert metrics["real_split"]["kid"] < metrics["eg3d_init"]["kid"]  # faces against an untrained network
    assert metrics["real_split"]["kid"] < metrics["pigan_init"]["kid"]
    assert metrics["pigan"]["multiview_raw_error"] == metrics["pigan"]["multiview_error"]  # pi-GAN's picture is its rendering
    for row in ("eg3d", "pigan", "fenerf"):  # inversion: the held-out subject's frontal view fitted, its other view novel
        scores = [metrics[row][f"inversion_psnr_{k}"] for k in ("fitted", "novel", "fitted_at_mean", "novel_at_mean")]
        assert all(np.isfinite(scores)) and all(0 < p < 60 for p in scores)
    assert (reproduced / "reports" / "gan" / "inversion.png").is_file()
    assert 0 <= metrics["fenerf"]["segmentation_miou"] <= 1 and metrics["fenerf"]["segmentation_images"] == 1
    assert (reproduced / "reports" / "gan" / "fenerf_segmentation.png").is_file()
    curve = (reproduced / "plots" / "evaluate_gan.csv").read_text().splitlines()
    assert curve[0] == "generator,kimg,fid,kid"
    assert [line.split(",")[:2] for line in curve[1:]] == [["eg3d", "0.004"], ["eg3d", "0.008"], ["pigan", "0.004"],
                                                            ["pigan", "0.008"], ["fenerf", "0.004"], ["fenerf", "0.008"]]


def test_fenerf_trains_with_its_semantic_discriminator_and_samples_from_the_command_line(reproduced, tmp_path):
    model = reproduced / "data/models/fenerf"
    assert sorted(p.name for p in (model / "snapshots").iterdir()) == ["step0000002.pt", "step0000004.pt"]
    history = (reproduced / "plots" / "train_fenerf.csv").read_text().splitlines()
    assert {"semantic_discriminator", "semantic_generator", "discriminator", "generator"} <= set(history[0].split(","))
    done = run(["lightstage", "sample", "--model", str(model), "--seeds", "0-1", "--yaw", "-20,20", "--scale", "1",
                "-o", str(tmp_path / "grid.png")], cwd=reproduced)
    assert "2 seeds x 2 yaws" in done.stdout


def test_second_repro_is_a_no_op(reproduced):
    before = len(mlflow_runs(reproduced))
    done = run(["dvc", "repro"], cwd=reproduced)
    assert "didn't change, skipping" in done.stdout
    assert len(mlflow_runs(reproduced)) == before


def test_real_maps_with_a_sun_and_negative_speckle_go_through_relighting(reproduced, tmp_path):
    """Two real-like maps (a sun 450,000 times the sky's median, 0.5 % of the pixels slightly
    negative) instead of the procedural ones: lightmaps clears and counts the negatives, and
    relight and evaluate_relighting run on them with finite results."""
    import numpy as np

    from pipeline.io.hdr import write_exr
    from pipeline.io.manifest import read_table
    from tests.io.test_hdr import sun_map

    repo = tmp_path / "repo"
    shutil.copytree(reproduced, repo, symlinks=True)
    maps = [sun_map(128, sun=(30, 40), seed=1), sun_map(128, sun=(50, 170), seed=2)]
    for name, image in zip(("noon", "dusk"), maps):
        write_exr(repo / "data/external/hdri" / f"{name}.exr", image)
    set_params(repo / "params.yaml", ("lightmaps", "procedural"), False)
    run(["dvc", "repro", "evaluate_relighting"], cwd=repo)
    manifest = read_table(repo / "data/interim/lightmaps/manifest.parquet")
    assert sorted(manifest["hdri"]) == ["real_dusk", "real_noon"]
    speckle = sum(int((m < 0).any(axis=-1).sum()) for m in maps)
    lightmaps = json.loads((repo / "metrics/lightmaps.json").read_text())
    assert lightmaps["negative_pixels"] == speckle > 0 and 0 < lightmaps["negative_share_max"] < 1e-6
    used = read_table(repo / "data/processed/relight/manifest.parquet")
    assert set(used["hdri_a"]) | set(used["hdri_b"]) <= {"real_dusk", "real_noon"}
    evaluation = json.loads((repo / "metrics/evaluate_relighting.json").read_text())
    numbers = [v for block in ("relit", "end_to_end") for m in evaluation[block].values() for v in m.values()]
    assert numbers and np.isfinite(numbers).all()
    assert "up to date" in run(["dvc", "status", "evaluate_relighting"], cwd=repo).stdout


def test_failed_stage_keeps_previous_outputs_and_fails_its_runs(reproduced, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(reproduced, repo, symlinks=True)
    before = dvc_md5(repo / "data/raw/lightstage")
    earlier = {r.info.run_id for r in mlflow_runs(repo)}
    corrupt = break_source(repo, tmp_path)
    done = run(["dvc", "repro"], cwd=repo, check=False)
    message = f"{corrupt}: not a readable .npy array"
    assert done.returncode != 0
    assert message in done.stderr + done.stdout
    assert dvc_md5(repo / "data/raw/lightstage") == before
    new = [r for r in mlflow_runs(repo) if r.info.run_id not in earlier]
    stage = [r for r in new if r.data.tags.get("lightstage.stage") == "synth"]
    parent = [r for r in new if "mlflow.parentRunId" not in r.data.tags]
    assert len(new) == 2 and len(stage) == 1 and len(parent) == 1
    for failed in stage + parent:
        assert failed.info.status == "FAILED"
        assert message in failed.data.tags["lightstage.error"] and message in failed.data.tags["mlflow.note.content"]


def test_a_failed_stage_fails_the_flow_and_its_parent_run(reproduced, prefect_api, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(reproduced, repo, symlinks=True)
    earlier = {r.info.run_id for r in mlflow_runs(repo)}
    corrupt = break_source(repo, tmp_path)
    set_params(repo / "params.yaml", ("flow", "retries"), 0)
    env = tool_env(PREFECT_API_URL=prefect_api)
    done = run(["python", "-m", "pipeline.flow", "run", "--root", str(repo), "--no-server"], cwd=repo, env=env, check=False)
    message = f"{corrupt}: not a readable .npy array"
    assert done.returncode != 0 and message in done.stdout + done.stderr
    new = [r for r in mlflow_runs(repo) if r.info.run_id not in earlier]
    parent = [r for r in new if "mlflow.parentRunId" not in r.data.tags]
    stage = [r for r in new if r.data.tags.get("lightstage.stage") == "synth"]
    assert len(parent) == 1 and len(stage) == 1 and len(new) == 2  # nothing downstream ran
    assert stage[0].data.tags["mlflow.parentRunId"] == parent[0].info.run_id
    for failed in stage + parent:
        assert failed.info.status == "FAILED"
        assert message in failed.data.tags["lightstage.error"] and message in failed.data.tags["mlflow.note.content"]
    assert "stage synth failed" in parent[0].data.tags["lightstage.error"]


DUMMY_LAYER = '''"""A layer only the dummy GAN uses."""

from torch import nn


class DummyLayer(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x):
        return self.conv(x)
'''

DUMMY_GAN = '''"""A model a future stage would train: its config beside it."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from pipeline.nn.dummy_layer import DummyLayer


@dataclass(frozen=True)
class DummyGanConfig:
    __pydantic_config__ = {"strict": False, "extra": "forbid"}

    widths: tuple[int, ...] = (8,)

    def build(self) -> nn.Module:
        return nn.Sequential(*(DummyLayer(width) for width in self.widths))
'''

DUMMY_SCHEMA = '''"""Section ``train_dummy``."""

from pydantic import Field

from pipeline.config import Section
from pipeline.models.dummy_gan import DummyGanConfig


class TrainDummyParams(Section):
    model: DummyGanConfig
    steps: int = Field(ge=1)


SCHEMA = TrainDummyParams
'''


def test_a_new_section_and_new_modules_leave_every_stage_fresh(reproduced, tmp_path):
    """What adding a GAN stage's code and params does before its stage exists: nothing to rerun."""
    repo = tmp_path / "repo"
    shutil.copytree(reproduced, repo, symlinks=True)
    (repo / "pipeline/nn/dummy_layer.py").write_text(DUMMY_LAYER)
    (repo / "pipeline/models/dummy_gan.py").write_text(DUMMY_GAN)
    (repo / "pipeline/schema/train_dummy.py").write_text(DUMMY_SCHEMA)
    set_params(repo / "params.yaml", ("train_dummy",), {"model": {"widths": [4, 8]}, "steps": 10})
    for profile, overrides in {"tiny": {"steps": 2}, "default": {}, "paper": {"model": {"widths": [64, 128]}}}.items():
        set_params(repo / "params.yaml", ("profiles", profile, "train_dummy"), overrides)
    status = run(["dvc", "status"], cwd=repo)
    assert "Data and pipelines are up to date." in status.stdout, status.stdout
    loaded = run(["python", "-c", "from pipeline.config import load_params; s = load_params().section('train_dummy'); "
                  "print(s.steps, s.model.widths, sum(p.numel() for p in s.model.build().parameters()))"], cwd=repo)
    assert loaded.stdout.split()[:3] == ["2", "(4,", "8)"]
    run(["python", "-m", "tests.deps", "--check"], cwd=repo)  # no stage imports the new modules
    set_params(repo / "params.yaml", ("profiles", "paper", "train_dummy", "model", "typo"), 1)
    bad = run(["python", "-c", "from pipeline.config import load_params; load_params()"], cwd=repo, check=False)
    assert "profiles.paper.train_dummy.model.typo" in bad.stderr


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


def photo_and_sky(reproduced, tmp_path):
    """A composite the tiny pipeline made, and a small procedural HDR map to relight it under."""
    import numpy as np

    from pipeline.io.hdr import write_exr
    from pipeline.io.manifest import read_table
    from pipeline.synth.hdri import procedural_sky

    pairs = read_table(reproduced / "data/processed/relight/manifest.parquet")
    sky = tmp_path / "sky.exr"
    write_exr(sky, procedural_sky(np.random.default_rng(5), 16).astype(np.float32))
    return reproduced / "data/processed/relight" / pairs.iloc[0]["composite_a"], sky


def test_a_photo_larger_than_the_working_size(reproduced, tmp_path):
    """A photo four times the nets' working size (eight times a tiny composite): the nets run small, the composite and the alpha
    and relit layers come out at the photo's size, with alpha in [0, 1] and the given trimap's
    known regions kept."""
    import cv2
    import numpy as np

    from pipeline.io.arrays import load_png, save_png

    photo, sky = photo_and_sky(reproduced, tmp_path)
    view = photo.parent.relative_to(reproduced / "data/processed/relight")
    small, small_trimap = load_png(photo), load_png(reproduced / "data/processed/trimaps" / view / "coarse_trimap.png")[..., 0]
    size = (8 * small.shape[1], 8 * small.shape[0])
    big, big_trimap = tmp_path / "big.png", tmp_path / "big_trimap.png"
    save_png(big, cv2.resize(small, size, interpolation=cv2.INTER_CUBIC))
    save_png(big_trimap, cv2.resize(small_trimap, size, interpolation=cv2.INTER_NEAREST))
    params = tmp_path / "params.yaml"
    shutil.copy(reproduced / "params.yaml", params)
    set_params(params, ("photo", "working_size"), 2 * max(small.shape[:2]))
    run(["lightstage", "relight", str(big), "--hdri", str(sky), "--trimap", str(big_trimap), "-o", str(tmp_path / "out.png"),
         "--layers", str(tmp_path / "layers"), "--params", str(params)], cwd=reproduced)
    assert load_png(tmp_path / "out.png").shape[:2] == (size[1], size[0])
    alpha = load_png(tmp_path / "layers" / "alpha.png")[..., 0]
    assert alpha.shape == (size[1], size[0]) and load_png(tmp_path / "layers" / "relit.png").shape[:2] == alpha.shape
    trimap = load_png(big_trimap)[..., 0]
    assert (alpha[trimap == 255] == 255).all() and (alpha[trimap == 0] == 0).all()
    assert load_png(tmp_path / "layers" / "normals.png").shape[:2] == (2 * small.shape[0], 2 * small.shape[1])  # the nets' size


def test_lightstage_relight_command(reproduced, tmp_path):
    """The trained chain on a photo: a given trimap and the default background, then a given background;
    no subject, a corrupt image and a NaN map fail cleanly."""
    import numpy as np

    from pipeline.io.arrays import load_png, save_png
    from pipeline.io.hdr import write_exr
    from pipeline.synth.hdri import procedural_sky

    photo, sky = photo_and_sky(reproduced, tmp_path)
    # the coarse trimap the trimaps stage made for this view: what a segmentation gives a user (the
    # automatic one finds no face in these 32 px composites, nor a subject by border colours: refused below)
    view = photo.parent.relative_to(reproduced / "data/processed/relight")
    coarse = reproduced / "data/processed/trimaps" / view / "coarse_trimap.png"
    out = tmp_path / "out" / "relit.png"
    run(["lightstage", "relight", str(photo), "--hdri", str(sky), "--trimap", str(coarse), "-o", str(out),
         "--layers", str(tmp_path / "layers")], cwd=reproduced)
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
    for nothing in (photo, tmp_path / "blank.png"):  # the automatic trimap is all background: refused, nothing written
        if nothing.name == "blank.png":
            save_png(nothing, np.full((48, 40, 3), 200, dtype=np.uint8))
        bad = run(["lightstage", "relight", str(nothing), "--hdri", str(sky), "-o", str(tmp_path / "bad.png")], cwd=reproduced,
                  check=False)
        assert bad.returncode == 2 and f"{nothing}: no person found" in bad.stderr and "--trimap" in bad.stderr
        assert not (tmp_path / "bad.png").exists()
    nan_map = tmp_path / "nan.exr"
    broken = procedural_sky(np.random.default_rng(5), 16).astype(np.float32)
    broken[3, 4, 1] = np.nan
    write_exr(nan_map, broken)
    bad = run(["lightstage", "relight", str(photo), "--hdri", str(nan_map), "-o", str(tmp_path / "bad.png")], cwd=reproduced, check=False)
    assert bad.returncode == 2 and str(nan_map) in bad.stderr and not (tmp_path / "bad.png").exists()


class RunsCode:
    """Unpickled, this runs a shell command: what a hostile model file does."""

    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@pytest.mark.parametrize("model", ["matting", "shading"])
def test_relight_refuses_a_model_file_that_would_run_code(reproduced, tmp_path, model):
    import torch

    photo, sky = photo_and_sky(reproduced, tmp_path)
    models = tmp_path / "models"
    shutil.copytree(reproduced / "data/models", models)
    hostile = models / model / "model.pt"
    torch.save({"config_class": "pipeline.models.matting.MattingConfig", "config": {}, "state_dict": RunsCode()}, hostile)
    control = tmp_path / "control"  # the file does what it claims when loaded the unsafe way
    control.mkdir()
    run(["python", "-c", f"import torch; torch.load({str(hostile)!r}, weights_only=False)"], cwd=control)
    assert (control / "PWNED").exists()
    work = tmp_path / "work"
    work.mkdir()
    done = run(["lightstage", "relight", str(photo), "--hdri", str(sky), "-o", str(work / "out.png"), "--models", str(models),
                "--params", str(reproduced / "params.yaml"), "--device", "cpu"], cwd=work, check=False)
    assert done.returncode == 2, done.stderr
    assert f"{hostile}: refused" in done.stderr
    assert not (work / "PWNED").exists() and not (work / "out.png").exists()


def test_a_training_stage_in_two_processes_reaches_the_weights_of_one(reproduced, tmp_path):
    """train_albedo (predicted intrinsics, lazy crops) on tiny, launched as dvc.yaml launches it
    with LIGHTSTAGE_NPROC 1 and 2: same total batch, same data, weights equal up to float summation
    order (tests/test_training.py explains the tolerance)."""
    import shlex

    import torch

    from pipeline.models import checkpoint

    command = shlex.split(yaml.safe_load((reproduced / "dvc.yaml").read_text())["stages"]["train_albedo"]["cmd"])
    weights = {}
    for processes in (1, 2):
        out = tmp_path / f"nproc{processes}"
        args = [out / "m.json" if w == "metrics/train_albedo.json" else out / "p.csv" if w == "plots/train_albedo.csv"
                else out / "albedo" if w == "data/models/albedo" else w for w in command]
        run([str(a) for a in args] + ["--no-track", "--previews", str(out)], cwd=reproduced,
            env=tool_env(LIGHTSTAGE_NPROC=str(processes), LIGHTSTAGE_THREADS="1"))
        weights[processes] = checkpoint.load(out / "albedo" / "model.pt")["state_dict"]
        assert not (out / ".albedo.work").exists()
    errors = [float((weights[1][k] - weights[2][k]).abs().max()) for k in weights[1] if weights[1][k].is_floating_point()]
    assert max(errors) < 1e-5
    assert any(torch.count_nonzero(v) for v in weights[2].values())
