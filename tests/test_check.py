"""``make check`` (pipeline/check.py): a rerun against the committed dvc.lock and metrics."""

from __future__ import annotations

import json
import subprocess

import yaml

from pipeline.check import DATA_STAGES, main
from tests.conftest import ROOT

LOCK = {"schema": "2.0", "stages": {
    "synth": {"outs": [{"path": "data/raw/lightstage", "md5": "aaa.dir"}]},
    "trimaps": {"outs": [{"path": "data/processed/trimaps", "md5": "bbb.dir"}]},
    "train_matting": {"outs": [{"path": "data/models/matting", "md5": "ccc.dir"}]}}}
MATTING = {"model": {"sad": 0.040, "mse": 0.0030}, "closed_form": {"sad": 0.0456}, "images": 32}
RELIGHTING = {"relit": {"model": {"mse": 0.0290, "psnr": 16.8}, "copy_input": {"mse": 0.0548}}}
SPREAD = {"spread": {"evaluate_matting": {"model.sad": {"std": 0.002}, "model.mse": {"std": 0.0002},
                                          "closed_form.sad": {"std": 0.0}, "images": {"std": 0.0}},
                     "evaluate_relighting": {"relit.model.mse": {"std": 0.0005}, "relit.model.psnr": {"std": 0.1},
                                             "relit.copy_input.mse": {"std": 0.0}}}}


def write(root, lock, matting, relighting):
    (root / "dvc.lock").write_text(yaml.safe_dump(lock))
    (root / "metrics").mkdir(exist_ok=True)
    (root / "metrics/evaluate_matting.json").write_text(json.dumps(matting))
    (root / "metrics/evaluate_relighting.json").write_text(json.dumps(relighting))


def repository(tmp_path):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path, LOCK, MATTING, RELIGHTING)
    (tmp_path / "spread.json").write_text(json.dumps(SPREAD))
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "run"], cwd=tmp_path, check=True)
    return tmp_path


def check(root) -> int:
    return main(["--root", str(root), "--spread", "spread.json"])


def test_a_rerun_within_the_seed_spread_passes(tmp_path, capsys):
    root = repository(tmp_path)
    assert check(root) == 0
    rerun = json.loads(json.dumps(MATTING))
    rerun["model"]["sad"] = 0.040 + 7.9 * 0.002  # inside 8 standard deviations
    write(root, LOCK, rerun, RELIGHTING)
    assert check(root) == 0
    assert "identical" in capsys.readouterr().out
    relighting = json.loads(json.dumps(RELIGHTING))
    relighting["relit"]["model"]["psnr"] = 16.8 + 20 * 0.1  # outside the headline: reported, not enforced
    write(root, LOCK, rerun, relighting)
    assert check(root) == 0
    assert "(20.0 std)" in capsys.readouterr().out


def test_a_model_metric_beyond_the_spread_fails(tmp_path, capsys):
    root = repository(tmp_path)
    rerun = json.loads(json.dumps(RELIGHTING))
    rerun["relit"]["model"]["mse"] = 0.0290 + 8.1 * 0.0005
    write(root, LOCK, MATTING, rerun)
    assert check(root) == 1
    assert "evaluate_relighting:relit.model.mse" in [line.split()[0] for line in capsys.readouterr().out.splitlines()
                                                    if line.endswith("OUT")]


def test_a_baseline_must_agree_to_the_last_digits(tmp_path):
    root = repository(tmp_path)
    rerun = json.loads(json.dumps(RELIGHTING))
    rerun["relit"]["copy_input"]["mse"] = 0.0548 * (1 + 1e-5)  # no spread over seeds: 1e-6 relative
    write(root, LOCK, MATTING, rerun)
    assert check(root) == 1


def test_closed_form_matting_may_move_as_its_solver_does_between_cpus(tmp_path):
    root = repository(tmp_path)
    rerun = json.loads(json.dumps(MATTING))
    rerun["closed_form"]["sad"] = 0.0456 * (1 + 0.004)  # the AVX2 and AVX-512 machines' CG stopped 0.4 % apart
    write(root, LOCK, rerun, RELIGHTING)
    assert check(root) == 0
    rerun["closed_form"]["sad"] = 0.0456 * (1 + 0.02)
    write(root, LOCK, rerun, RELIGHTING)
    assert check(root) == 1


def test_a_changed_data_hash_fails_and_a_changed_model_hash_does_not(tmp_path, capsys):
    root = repository(tmp_path)
    lock = json.loads(json.dumps(LOCK))
    lock["stages"]["train_matting"]["outs"][0]["md5"] = "ddd.dir"  # trained weights differ between CPUs
    write(root, lock, MATTING, RELIGHTING)
    assert check(root) == 0
    lock["stages"]["trimaps"]["outs"][0]["md5"] = "eee.dir"
    write(root, lock, MATTING, RELIGHTING)
    assert check(root) == 1
    assert "data/processed/trimaps" in capsys.readouterr().out


def test_the_checked_data_stages_are_the_capped_ones():
    capped = {path.stem for path in (ROOT / "stages").glob("*.py") if "portable=True" in path.read_text()}
    assert capped == set(DATA_STAGES)
