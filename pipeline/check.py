"""``make check``: does a rerun reproduce what is committed?

    python -m pipeline.check [--against REV] [--spread reports/seed_spread.json]

Run it after ``make repro`` on a fresh clone (no DVC cache there, so every stage reruns) or after
any rerun. It compares the working tree with commit REV (default ``HEAD``):

- the data stages' outputs (``synth``, ``lightmaps``, ``relight``, ``trimaps``): every hash in
  ``dvc.lock`` identical. ``pipeline/portable.py`` makes their bytes the same on any x86-64 CPU
  with AVX2, so any difference is a bug (or another library version: see ``constraints.txt``).
- every evaluation metric: within ``K`` standard deviations of its spread over training seeds
  (``benchmarks/seeds.py`` measured it into ``--spread``), and never closer than ``FLOOR``
  relative. Training stages keep the CPU's own kernels, and a different rounding, amplified over
  thousands of steps, moves a trained model about as another seed does; metrics that depend on
  the data alone (the baselines) have no spread over seeds and must agree to ``FLOOR``.

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


DATA_STAGES = ("synth", "lightmaps", "relight", "trimaps")  # the stages that run capped (pipeline/portable.py)
EVALUATIONS = {"evaluate_matting": "metrics/evaluate_matting.json",
               "evaluate_relighting": "metrics/evaluate_relighting.json"}
K = 4.0  # standard deviations; from three seeds the sample deviation can be half the true one
FLOOR = 1e-6  # relative: evaluation's own float sums differ in their last bits between CPUs


def committed(rev: str, path: str, root: Path) -> str:
    done = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pipeline.check: {path} is not in commit {rev}: {done.stderr.strip()}")
    return done.stdout


def flatten(metrics: dict, prefix: str = "") -> dict[str, float]:
    flat = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[f"{prefix}{key}"] = float(value)
    return flat


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


def tolerance(value: float, spread: dict | None) -> float:
    deviation = spread["std"] if spread else 0.0
    return max(K * deviation, FLOOR * abs(value))


def check_metrics(root: Path, rev: str, spread_file: Path) -> list[str]:
    """The evaluation metrics out of tolerance (an empty list: all within)."""
    spread = json.loads(spread_file.read_text())["spread"]
    failing = []
    print(f"  {'metric':52s} {'committed':>11s} {'now':>11s} {'tolerance':>10s}")
    for stage, path in EVALUATIONS.items():
        before, after = flatten(json.loads(committed(rev, path, root))), flatten(json.loads((root / path).read_text()))
        for key in sorted(before):
            name = f"{stage}:{key}"
            if key not in after:
                print(f"  {name:52s} {before[key]:11.5g} {'missing':>11s}")
                failing.append(name)
                continue
            allowed = tolerance(before[key], spread.get(stage, {}).get(key))
            ok = abs(after[key] - before[key]) <= allowed and math.isfinite(after[key])
            print(f"  {name:52s} {before[key]:11.5g} {after[key]:11.5g} {allowed:10.3g}{'' if ok else '  OUT'}")
            if not ok:
                failing.append(name)
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
    print(f"evaluation metrics against {args.against} (tolerance: {K:g} standard deviations over training seeds, "
          f"at least {FLOOR:g} relative):")
    failing = check_metrics(args.root, args.against, args.root / args.spread)
    if differing or failing:
        print(f"pipeline.check: {len(differing)} data outputs differ, {len(failing)} metrics out of tolerance",
              file=sys.stderr)
        return 1
    print("pipeline.check: the rerun reproduces the committed data and metrics")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
