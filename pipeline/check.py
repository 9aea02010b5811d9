"""``make check``: does a rerun reproduce what is committed?

    python -m pipeline.check [--against REV] [--spread reports/seed_spread.json]

Run it after ``make repro`` on a fresh clone (no DVC cache there, so every stage reruns) or after
any rerun. It compares the working tree with commit REV (default ``HEAD``):

- the data stages' outputs (``synth``, ``lightmaps``, ``relight``, ``trimaps``): every hash in
  ``dvc.lock`` identical. ``pipeline/portable.py`` makes their bytes the same on any x86-64 CPU
  with AVX2, so any difference is a bug (or another library version: see ``constraints.txt``).
- the evaluation metrics that depend on the data alone (the baselines: their spread over training
  seeds is zero): equal to ``FLOOR`` relative (evaluation's own float sums may differ in their
  last bits between CPUs), closed-form matting's to ``SOLVER_FLOOR`` (an iterative solver
  compiled for the host CPU).
- the headline metrics of the trained models (``HEADLINE``): within ``K`` standard deviations of
  their spread over training seeds (``benchmarks/seeds.py`` measured it into ``--spread``).
  Training keeps the CPU's own kernels, and a different rounding, amplified over thousands of
  steps, moves a trained model about as another seed does. The other model metrics are printed
  with their distance in standard deviations, for information.

Prints a table and exits 1 when anything is out of tolerance.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import yaml

from pipeline.stage import flat_metrics

DATA_STAGES = ("synth", "lightmaps", "relight", "trimaps", "poses")  # the stages that run capped (pipeline/portable.py)
EVALUATIONS = {"evaluate_matting": "metrics/evaluate_matting.json",
               "evaluate_relighting": "metrics/evaluate_relighting.json"}
HEADLINE = {"evaluate_matting": ("model.sad", "model.mse", "model.grad", "model.conn", "coarse.sad"),
            "evaluate_relighting": ("relit.model.mse", "relit.model.ssim", "end_to_end.model.mse", "normals.mean_deg",
                                    "albedo.mae", "temporal.model.td")}
# Standard deviations allowed. The deviation comes from 5 seeds (4 degrees of freedom), and a
# rerun minus the committed value has a deviation of sqrt(2) sigma: |t_4| > 8 / sqrt(2) = 5.66 has
# probability 0.5 % per metric, under 6 % for the 11 headline metrics together.
K = 8.0
FLOOR = 1e-6  # relative: evaluation's own float sums differ in their last bits between CPUs
# Closed-form matting depends on the data alone, but pymatting solves it by conjugate gradients
# compiled by numba for the host CPU, stopped at a relative residual of 1e-7: the AVX-512 Intel and
# the AVX2 AMD runs gave alphas whose errors differ by up to 0.37 % (MSE; SAD 0.05 %).
SOLVER = {"evaluate_matting": ("closed_form.",)}
SOLVER_FLOOR = 1e-2


def committed(rev: str, path: str, root: Path) -> str:
    done = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pipeline.check: {path} is not in commit {rev}: {done.stderr.strip()}")
    return done.stdout


def output_hashes(lock: dict, stage: str) -> dict[str, str]:
    return {out["path"]: out.get("md5", "") for out in lock.get("stages", {}).get(stage, {}).get("outs", [])}


def check_data(root: Path, rev: str) -> list[str]:
    """The data stages' outputs whose hash differs from REV's (an empty list: all identical)."""
    now = yaml.safe_load((root / "dvc.lock").read_text())
    then = yaml.safe_load(committed(rev, "dvc.lock", root))
    differing = []
    for stage in DATA_STAGES:
        before, after = output_hashes(then, stage), output_hashes(now, stage)
        for path in sorted(set(before) | set(after)):
            same = before.get(path) == after.get(path)
            print(f"  {stage:10s} {path:32s} {'identical' if same else 'DIFFERENT'}")
            if not same:
                differing.append(path)
    return differing


def check_metrics(root: Path, rev: str, spread_file: Path) -> list[str]:
    """The checked evaluation metrics out of tolerance (an empty list: all within)."""
    spread = json.loads(spread_file.read_text())["spread"]
    failing = []
    print(f"  {'metric':46s} {'committed':>11s} {'now':>11s} {'seed std':>9s} {'tolerance':>10s}")
    for stage, path in EVALUATIONS.items():
        before = flat_metrics(json.loads(committed(rev, path, root)))
        after = flat_metrics(json.loads((root / path).read_text()))
        for key in sorted(before):
            name, deviation = f"{stage}:{key}", spread.get(stage, {}).get(key, {}).get("std", 0.0)
            if key not in after or not math.isfinite(after[key]):
                print(f"  {name:46s} {before[key]:11.5g} {'missing':>11s}  OUT")
                failing.append(name)
                continue
            difference = abs(after[key] - before[key])
            if deviation == 0.0 or key in HEADLINE[stage]:
                floor = SOLVER_FLOOR if key.startswith(SOLVER.get(stage, ())) else FLOOR
                allowed = max(K * deviation, floor * abs(before[key]))
                verdict = "" if difference <= allowed else "  OUT"
                print(f"  {name:46s} {before[key]:11.5g} {after[key]:11.5g} {deviation:9.2g} {allowed:10.3g}{verdict}")
                if verdict:
                    failing.append(name)
            else:  # a model metric outside the headline: for information
                print(f"  {name:46s} {before[key]:11.5g} {after[key]:11.5g} {deviation:9.2g} "
                      f"{'(' + format(difference / deviation, '.1f') + ' std)':>10s}")
    return failing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default="HEAD", help="the commit to compare with (default HEAD)")
    parser.add_argument("--spread", type=Path, default=Path("reports/seed_spread.json"),
                        help="the metrics' spread over training seeds (benchmarks/seeds.py)")
    parser.add_argument("--root", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    print(f"data stages against {args.against}:")
    differing = check_data(args.root, args.against)
    print(f"evaluation metrics against {args.against} (data-only metrics to {FLOOR:g} relative, closed-form "
          f"matting's to {SOLVER_FLOOR:g}; headline model "
          f"metrics within {K:g} standard deviations over training seeds; the rest for information):")
    failing = check_metrics(args.root, args.against, args.root / args.spread)
    if differing or failing:
        print(f"pipeline.check: {len(differing)} data outputs differ, {len(failing)} metrics out of tolerance",
              file=sys.stderr)
        return 1
    print("pipeline.check: the rerun reproduces the committed data and metrics")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
