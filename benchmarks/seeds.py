"""How much the trained models' metrics move between training seeds, on the committed data.

    .venv/bin/python benchmarks/seeds.py [--seeds 1 2 3 4] [--out reports/seed_spread.json] [--work DIR]

Reruns the Total Relighting branch's training and evaluation stages (``train_matting``,
``evaluate_matting``, ``train_geometry``, ``train_albedo``, ``train_shading``,
``evaluate_relighting``), each as ``dvc repro`` runs it, with ``base.seed`` set to each seed
(the data stay those in ``data/``: only the nets' initial weights and the training crops
change), outputs in a temporary folder. With the committed run (seed 0, ``metrics/``) it writes
every evaluation metric's mean, standard deviation and values over the seeds. A rerun on another
CPU changes the training's floating-point rounding, which, amplified over thousands of steps,
moves the metrics about as a seed does: ``pipeline/check.py`` takes its tolerances from this file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from pipeline.check import EVALUATIONS
from pipeline.lineage import stage_argv
from pipeline.stage import flat_metrics
ROOT = Path(__file__).resolve().parents[1]
STAGES = ("train_matting", "evaluate_matting", "train_geometry", "train_albedo", "train_shading", "evaluate_relighting")
MOVED = ("data/models/", "metrics/", "plots/", "reports/")  # what a seed's run writes: into its own folder


def run_seed(seed: int, folder: Path) -> dict[str, dict[str, float]]:
    work = folder / f"seed{seed}"
    done = [work / path for path in EVALUATIONS.values()]
    if all(path.is_file() for path in done):  # an earlier invocation with the same --work finished this seed
        return {stage: flat_metrics(json.loads(path.read_text())) for stage, path in zip(EVALUATIONS, done)}
    params = work / "params.yaml"
    params.parent.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["base"]["seed"] = seed
    params.write_text(yaml.safe_dump(raw, sort_keys=False))
    for name in STAGES:
        start = time.perf_counter()
        subprocess.run(stage_argv(name, ROOT / "dvc.yaml", params, work, MOVED), cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "PYTHONUNBUFFERED": "1"})
        print(f"seed {seed}: {name} {time.perf_counter() - start:.0f} s", flush=True)
    return {stage: flat_metrics(json.loads((work / path).read_text())) for stage, path in EVALUATIONS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=ROOT / "reports/seed_spread.json")
    parser.add_argument("--work", type=Path, help="keep each seed's outputs here (a rerun reuses the seeds it finds "
                        "finished); default: a temporary folder")
    args = parser.parse_args()
    committed = yaml.safe_load((ROOT / "params.yaml").read_text())["base"]["seed"]
    runs = {committed: {stage: flat_metrics(json.loads((ROOT / path).read_text())) for stage, path in EVALUATIONS.items()}}
    with tempfile.TemporaryDirectory() as temp:
        for seed in args.seeds:
            runs[seed] = run_seed(seed, args.work or Path(temp))
    spread = {}
    for stage in EVALUATIONS:
        spread[stage] = {}
        for key in runs[committed][stage]:
            values = np.array([runs[s][stage][key] for s in runs])
            spread[stage][key] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)),
                                  "values": [float(v) for v in values]}
    document = {"seeds": list(runs), "command": "python benchmarks/seeds.py " + " ".join(sys.argv[1:]), "spread": spread}
    args.out.write_text(json.dumps(document, indent=1) + "\n")
    for stage, table in spread.items():
        for key, row in table.items():
            relative = row["std"] / abs(row["mean"]) if row["mean"] else 0.0
            print(f"{stage} {key}: mean {row['mean']:.5g}, std {row['std']:.3g} ({relative:.1%})")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
