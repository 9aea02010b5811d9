"""What capping the CPU kernels at AVX2 costs the data stages, and whether it changes their bytes here.

    .venv/bin/python benchmarks/portable.py [--profile tiny|default] [--stages synth lightmaps relight trimaps]

Runs the data stages twice in one run, each as ``dvc repro`` runs it (``python -m stages.X``, a
fresh process): with the caps of ``pipeline/portable.py`` (the default) and with them lifted
(``LIGHTSTAGE_NATIVE_CPU=1``), prints seconds per stage and the ratio, and compares every output
file byte for byte. On a CPU with AVX-512 the native bytes differ from the capped ones (that
difference is what another CPU saw); on an AVX2-only CPU both runs are the capped run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from pipeline.lineage import stage_argv
from pipeline.check import DATA_STAGES
from pipeline.portable import CAPS, NATIVE_ENV, is_x86_64

ROOT = Path(__file__).resolve().parents[1]
MOVED = ("data/raw/", "data/interim/", "data/processed/", "metrics/", "plots/")  # what the data stages write: into the run's own folder


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="tiny", choices=("tiny", "default"))
    parser.add_argument("--stages", nargs="+", default=list(DATA_STAGES), choices=DATA_STAGES)
    args = parser.parse_args()
    if not is_x86_64():
        raise SystemExit("the caps apply to x86-64 CPUs only")
    with tempfile.TemporaryDirectory() as temp:
        params = Path(temp) / "params.yaml"
        raw = yaml.safe_load((ROOT / "params.yaml").read_text())
        raw["base"]["profile"] = args.profile
        params.write_text(yaml.safe_dump(raw, sort_keys=False))
        outputs, seconds = {}, {}
        for mode in ("capped", "native"):
            work = Path(temp) / mode
            env = {k: v for k, v in os.environ.items() if k not in CAPS and k != NATIVE_ENV}
            if mode == "native":
                env[NATIVE_ENV] = "1"
            for name in args.stages:
                start = time.perf_counter()
                subprocess.run(stage_argv(name, ROOT / "dvc.yaml", params, work, MOVED), cwd=ROOT, env=env, check=True,
                               stdout=subprocess.DEVNULL)
                seconds[mode, name] = time.perf_counter() - start
            outputs[mode] = digests(work / "data")
        print(f"profile {args.profile}, {os.cpu_count()} cores")
        for name in args.stages:
            native, capped = seconds["native", name], seconds["capped", name]
            print(f"{name}: native {native:.1f} s, capped at AVX2 {capped:.1f} s: {capped / native:.2f}x the time")
        differing = [f for f in outputs["capped"] if outputs["capped"][f] != outputs["native"].get(f)]
        print(f"output files differing between native and capped: {len(differing)} of {len(outputs['capped'])}"
              + (f" (first: {', '.join(differing[:5])})" if differing else ""))


if __name__ == "__main__":
    main()
