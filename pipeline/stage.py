"""The thin shell around every stage: params, paths, atomic outputs, metrics, tracking.

A stage module defines ``run(ctx, inputs, outputs) -> StageResult`` (the pure
core: paths in, files and numbers out) and a ``main()`` that calls
``stage_main``. The shell validates params.yaml before any work, checks the
inputs exist, hands ``run`` temporary output directories and renames them into
place only when it succeeds, writes the metrics JSON, and records the run in
MLflow with its lineage. Any ``LightstageError`` ends the process with a
message naming the file or key, and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import DataError, LightstageError
from pipeline.config import BaseParams, Section, flatten, load_params
from pipeline.io.arrays import save_png
from pipeline.io.atomic import atomic_dirs, atomic_file
from pipeline.lineage import dvc_md5, git_commit, read_dvc_stage


@dataclass(frozen=True)
class StageContext:
    """What a stage's core receives besides paths: validated, profile-resolved params."""

    base: BaseParams
    params: Section
    work_dir: Path | None = None  # survives a failed or interrupted run (resumable state); removed on success


@dataclass(frozen=True)
class StageResult:
    metrics: dict  # name -> number, or nested dicts of them (metrics/<stage>.json as is)
    previews: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (H, W, 3) uint8 picture
    history: list[tuple[int, dict[str, float]]] = field(default_factory=list)  # (step, losses) curves for MLflow
    plot: pd.DataFrame | None = None  # a table for `dvc plots show`, written to --plots as CSV


RunFn = Callable[[StageContext, dict[str, Path], dict[str, Path]], StageResult]


def _parser(name: str, inputs: Sequence[str], outputs: Sequence[str], plots: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m stages.{name}", description=f"lightstage stage '{name}'")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="params file")
    parser.add_argument("--metrics", type=Path, required=True, help="metrics JSON to write")
    parser.add_argument("--no-track", action="store_true", help="skip MLflow (for debugging)")
    if plots:
        parser.add_argument("--plots", type=Path, required=True, help="CSV table for dvc plots")
    parser.add_argument("--previews", type=Path, default=Path("reports/previews"), help="where preview PNGs go")
    for key in inputs:
        parser.add_argument(f"--{key}", type=Path, required=True, help=f"input: {key}")
    for key in outputs:
        parser.add_argument(f"--{key}", type=Path, required=True, help=f"output directory: {key}")
    return parser


def stage_main(
    name: str, run: RunFn, inputs: Sequence[str] = (), outputs: Sequence[str] = (),
    argv: Sequence[str] | None = None, section: str | None = None, plots: bool = False,
) -> int:
    """Parse arguments, run the stage's core, save and record its results; return an exit code."""
    args = _parser(name, inputs, outputs, plots).parse_args(argv)
    try:
        params = load_params(args.params)
        in_paths = {key: getattr(args, key.replace("-", "_")) for key in inputs}
        out_paths = {key: getattr(args, key.replace("-", "_")) for key in outputs}
        first = next(iter(out_paths.values()), None)
        work_dir = first.parent / f".{first.name}.work" if first is not None else None
        ctx = StageContext(base=params.base, params=params.section(section or name), work_dir=work_dir)
        for key, path in in_paths.items():
            if not path.exists():
                raise DataError(f"{path}: input '{key}' not found")
        start = time.perf_counter()
        with atomic_dirs(out_paths) as temporary:
            result = run(ctx, in_paths, temporary)
        seconds = time.perf_counter() - start
        if work_dir is not None and work_dir.exists():
            shutil.rmtree(work_dir)
        with atomic_file(args.metrics, "w") as handle:
            json.dump(result.metrics, handle, indent=2, sort_keys=True)
            handle.write("\n")
        if plots:
            if result.plot is None:
                raise LightstageError(f"stage {name} declares plots but produced none")
            with atomic_file(args.plots, "w") as handle:
                result.plot.to_csv(handle, index=False, float_format="%.6g")
        previews = []
        for label, image in result.previews.items():  # for people: reports/previews/, and in MLflow
            previews.append(args.previews / f"{name}_{label}.png")
            save_png(previews[-1], image)
        if not args.no_track:
            _record(name, ctx, result, previews, section or name, seconds)
    except LightstageError as err:
        print(f"stages.{name}: error: {err}", file=sys.stderr)
        return 2
    return 0


def flat_metrics(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Nested metrics as flat ``a.b.c`` keys (MLflow takes numbers only)."""
    flat = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(flat_metrics(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = float(value)
    return flat


def _record(name: str, ctx: StageContext, result: StageResult, previews: list[Path], section: str,
            seconds: float) -> None:
    """Log the run to MLflow: params, metrics, lineage tags and previews."""
    from pipeline import track

    root = Path.cwd()
    graph = read_dvc_stage(name, root / "dvc.yaml")
    tags = {f"dvc.dep.{path}": dvc_md5(root / path) for path in graph.deps}
    tags.update({f"dvc.out.{path}": dvc_md5(root / path) for path in graph.outs + graph.metrics + graph.plots})
    params = {**flatten(ctx.base, "base"), **flatten(ctx.params, section)}
    metrics = {**flat_metrics(result.metrics), "stage_seconds": seconds}  # timing: MLflow only, the JSON stays reproducible
    track.log_stage(root, name, params, metrics, tags, {"preview": previews}, git_commit(root), result.history)
