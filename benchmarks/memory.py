"""Peak memory of a training stage against the size of its dataset.

    .venv/bin/python benchmarks/memory.py --data data --data /tmp/big/data [--steps 100] [--code .]

Runs ``stages.train_geometry`` (from the checkout ``--code``, with its params.yaml
and ``train_geometry.steps`` set to ``--steps``) on each data folder (holding
processed/relight, raw/lightstage and interim/lightmaps as ``dvc repro`` writes
them) and prints the peak resident memory of the largest process of the stage
(the stage or one of its data-loading workers: the kernel's ru_maxrss over the
waited-for process tree), the number of training samples, and every peak as a
ratio to the first folder's, all from this run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml


def samples_in(data: Path) -> int:
    pairs = pd.read_parquet(data / "processed" / "relight" / "manifest.parquet")
    return 2 * int((pairs["split"] == "train").sum())


def peak_rss_mb(code: Path, data: Path, steps: int, workers: int) -> float:
    """Run the stage in a fresh Python (a child of a fresh shell, so ru_maxrss is its own)."""
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        params = yaml.safe_load((code / "params.yaml").read_text())
        params["train_geometry"]["steps"] = steps
        params["train_geometry"]["checkpoint_every"] = steps
        (scratch / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        stage = [sys.executable, "-m", "stages.train_geometry", "--params", str(scratch / "params.yaml"), "--no-track",
                 "--metrics", str(scratch / "m.json"), "--plots", str(scratch / "p.csv"), "--previews", str(scratch),
                 "--relight", str(data / "processed/relight"), "--lightstage", str(data / "raw/lightstage"),
                 "--lightmaps", str(data / "interim/lightmaps"), "--geometry", str(scratch / "geometry")]
        probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
                 "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
                 "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        env = {**os.environ, "LIGHTSTAGE_WORKERS": str(workers)}
        done = subprocess.run([sys.executable, "-c", probe, *stage], cwd=code, env=env, capture_output=True, text=True,
                              check=True)
        return int(done.stdout.strip()) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, action="append", required=True, help="a data folder (repeat)")
    parser.add_argument("--code", type=Path, default=Path("."), help="the checkout whose stage runs")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    first = None
    for data in args.data:
        peak = peak_rss_mb(args.code.resolve(), data.resolve(), args.steps, args.workers)
        first = first or peak
        print(f"{data}: {samples_in(data)} training samples, peak RSS {peak:.0f} MB ({peak / first:.2f}x the first)")


if __name__ == "__main__":
    main()
