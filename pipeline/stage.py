"""The thin shell around every stage: params, paths, atomic outputs, metrics, tracking.

A stage module defines ``run(ctx, inputs, outputs) -> StageResult`` (the pure
core: paths in, files and numbers out) and a ``main()`` that calls
``stage_main`` with its own section's schema. The shell validates ``base`` and
that section before any work, reads the execution settings (device, threads:
pipeline/device.py), checks the inputs exist, hands ``run`` temporary output
directories and renames them into place only when it succeeds, and writes the
metrics JSON.

With tracking on, the stage's MLflow run opens when the stage starts and ends
FINISHED, or FAILED with the error, whatever stopped it. Any ``LightstageError``
ends the process with a message naming the file or key, and exit code 2; any
other exception propagates.

Several processes: with ``LIGHTSTAGE_NPROC`` > 1 the stage reruns itself under
torchrun. There, every rank runs the core; only rank 0 writes outputs, metrics,
plots, previews and MLflow runs, the others write into throwaway directories.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import DataError, LightstageError, distributed, track
from pipeline.config import Params, Section, flatten, load_section, section_name
from pipeline.device import Execution, configure
from pipeline.io.arrays import save_png
from pipeline.io.atomic import atomic_dirs, atomic_file
from pipeline.io.video import write_video
from pipeline.lineage import dvc_md5, git_commit, read_dvc_stage
from pipeline.portable import capped_environment
from pipeline.schema.base import BaseParams

History = list[tuple[int, dict[str, float]]]  # (step, {loss name: value}) rows


def no_history(rows: History) -> None:
    """Where training curves go when nothing records them (tracking off, or not rank 0)."""


def unconfigured() -> Execution:
    """For a core called directly (tests): the CPU, with torch's threads as they are."""
    import torch

    return Execution(device="cpu", threads=torch.get_num_threads(), processes=1)


@dataclass(frozen=True)
class StageContext:
    """What a stage's core receives besides paths: validated, profile-resolved params, where it
    runs, and where its training curves go while it runs."""

    base: BaseParams
    params: Section
    work_dir: Path | None = None  # survives a failed or interrupted run (resumable state); removed on success
    execution: Execution = field(default_factory=unconfigured)
    log_history: Callable[[History], None] = no_history  # MLflow ``train/<name>`` metrics, in batches


@dataclass(frozen=True)
class StageResult:
    metrics: dict  # name -> number, or nested dicts of them (metrics/<stage>.json as is)
    previews: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (H, W, 3) uint8 picture
    videos: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (F, H, W, 3) uint8 frames, beside the previews
    history: History = field(default_factory=list)  # whole (step, losses) curves, logged at the end if not streamed
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
    name: str, run: RunFn, schema: type[Section], inputs: Sequence[str] = (), outputs: Sequence[str] = (),
    argv: Sequence[str] | None = None, plots: bool = False, portable: bool = False,
) -> int:
    """Parse arguments, run the stage's core, save and record its results; return an exit code.
    ``schema`` is the class of the params section the stage reads (its module names the section).
    A ``portable`` stage (the data stages) runs with the CPU kernel caps of ``pipeline/portable.py``
    that make its bytes the same on any x86-64 CPU with AVX2, relaunching itself once to set them."""
    argv = list(sys.argv[1:] if argv is None else argv)
    capped = capped_environment(os.environ) if portable else None
    if capped is not None:  # the caps must be set before NumPy and PyTorch load
        return subprocess.run([sys.executable, "-m", f"stages.{name}", *argv], env=capped).returncode
    relaunch = distributed.relaunch_command(f"stages.{name}", argv)
    if relaunch is not None:  # LIGHTSTAGE_NPROC > 1: this same stage, in that many processes
        return subprocess.run(relaunch).returncode
    args = _parser(name, inputs, outputs, plots).parse_args(argv)
    tracked = None
    try:
        params = load_section(args.params, schema)
        execution = configure()
        distributed.init(execution.device)
        if not args.no_track and distributed.is_main():
            tracked = _start_tracking(name, params, execution)
        in_paths, out_paths = _paths(args, inputs), _paths(args, outputs)
        ctx = StageContext(base=params.base, params=params.section(section_name(schema)), work_dir=_work_dir(out_paths),
                           execution=execution, log_history=tracked.log_history if tracked else no_history)
        _check_inputs(in_paths)
        start = time.perf_counter()
        result = _run_core(run, ctx, in_paths, out_paths)
        seconds = time.perf_counter() - start
        if distributed.is_main():
            previews = _write_results(name, args, result, plots)
            if tracked is not None:
                _finish_tracking(tracked, name, result, previews, seconds)
    except LightstageError as err:
        _fail_tracking(tracked, str(err))
        print(f"stages.{name}: error: {err}", file=sys.stderr)
        return 2
    except BaseException as err:  # a bug, or KeyboardInterrupt: recorded, then as Python reports it
        _fail_tracking(tracked, f"{type(err).__name__}: {err}" if str(err) else type(err).__name__)
        raise
    finally:
        distributed.shutdown()
    return 0


def _paths(args: argparse.Namespace, keys: Sequence[str]) -> dict[str, Path]:
    return {key: getattr(args, key.replace("-", "_")) for key in keys}


def _work_dir(out_paths: dict[str, Path]) -> Path | None:
    first = next(iter(out_paths.values()), None)
    return first.parent / f".{first.name}.work" if first is not None else None


def _check_inputs(in_paths: dict[str, Path]) -> None:
    for key, path in in_paths.items():
        if not path.exists():
            raise DataError(f"{path}: input '{key}' not found")


def _run_core(run: RunFn, ctx: StageContext, in_paths: dict[str, Path], out_paths: dict[str, Path]) -> StageResult:
    """Rank 0 writes into temporary directories swapped into place on success; other ranks
    into throwaway ones, deleted afterwards (their outputs equal rank 0's or are partial)."""
    if not distributed.is_main():
        with _throwaway_dirs(out_paths) as temporary:
            result = run(ctx, in_paths, temporary)
        distributed.barrier()  # rank 0 removes the shared work folder only after every rank is done with it
        return result
    with atomic_dirs(out_paths) as temporary:
        result = run(ctx, in_paths, temporary)
    distributed.barrier()
    if ctx.work_dir is not None and ctx.work_dir.exists():
        shutil.rmtree(ctx.work_dir)
    return result


@contextlib.contextmanager
def _throwaway_dirs(out_paths: dict[str, Path]) -> Iterator[dict[str, Path]]:
    # Outside the output's folder: atomic_dirs there sweeps stale temporaries, rank 0's included.
    with tempfile.TemporaryDirectory(prefix=f"lightstage-rank{distributed.rank()}-") as root:
        folders = {key: Path(root) / key for key in out_paths}
        for folder in folders.values():
            folder.mkdir()
        yield folders


def _write_results(name: str, args: argparse.Namespace, result: StageResult, plots: bool) -> list[Path]:
    """The metrics JSON, the plot table and the preview PNGs; return the previews' paths."""
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
    for label, frames in result.videos.items():
        previews.append(args.previews / f"{name}_{label}.mp4")
        write_video(previews[-1], frames)
    return previews


def flat_metrics(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Nested metrics as flat ``a.b.c`` keys (MLflow takes numbers only)."""
    flat = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(flat_metrics(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = float(value)
    return flat


def _start_tracking(name: str, params: Params, execution: Execution) -> track.StageRun:
    """Open the stage's MLflow run: params, where it runs, and the hashes of what it reads."""
    root = Path.cwd()
    graph = read_dvc_stage(name, root / "dvc.yaml")
    values = {**flatten(params.base, "base")}
    for section, resolved in params.sections.items():
        values.update(flatten(resolved, section))
    tags = {**execution.tags(), **{f"dvc.dep.{path}": dvc_md5(root / path) for path in graph.deps}}
    return track.start_stage(root, name, values, tags, git_commit(root))


def _finish_tracking(tracked: track.StageRun, name: str, result: StageResult, previews: list[Path], seconds: float) -> None:
    """Close the run with its outputs' hashes, metrics and previews (and a whole history the
    core returned, if it streamed none)."""
    root = Path.cwd()
    graph = read_dvc_stage(name, root / "dvc.yaml")
    if result.history and not tracked.history_logged:
        tracked.log_history(result.history)
    tags = {f"dvc.out.{path}": dvc_md5(root / path) for path in graph.outs + graph.metrics + graph.plots}
    metrics = {**flat_metrics(result.metrics), "stage_seconds": seconds}  # timing: MLflow only, the JSON stays reproducible
    tracked.finish(metrics, tags, {"preview": previews})


def _fail_tracking(tracked: track.StageRun | None, message: str) -> None:
    """End the run FAILED; a tracking problem here must not hide the stage's own error."""
    if tracked is None:
        return
    try:
        tracked.fail(message)
    except Exception as err:  # noqa: BLE001 - reported, the original error goes on
        print(f"warning: could not record the failure in MLflow: {err}", file=sys.stderr)
