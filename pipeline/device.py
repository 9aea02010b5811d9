"""Execution settings: which device and how many CPU threads. Never params.

Moving a run to a GPU or giving it more threads must not make DVC rerun anything
nor change a resume fingerprint, so these come from the environment (or a
command-line flag that sets it), never from params.yaml:

    LIGHTSTAGE_DEVICE   cpu | cuda | cuda:1 ...   default: cuda when present, else cpu
    LIGHTSTAGE_THREADS  torch CPU threads          default: torch's own (the machine's cores)
    LIGHTSTAGE_NPROC    processes per training stage (torchrun; see pipeline.distributed)
    LIGHTSTAGE_WORKERS  data-loading processes per training process (0: load in-process)
                        default: 1 on CUDA, 0 on the CPU (there a loader process takes cores from
                        the computation: on 2 cores it made steps slower, benchmarks/training.py --data)

Training data is keyed to the sample index (pipeline.training), so none of these changes
what a run computes, only where and how fast.

Mixed precision (a training stage's ``precision: auto``) follows the hardware too:
bfloat16 where the device computes it natively (``native_bfloat16``: a GPU with bfloat16,
a CPU with AVX512-BF16 or AMX), float32 elsewhere (emulated bfloat16 on an AVX2 CPU made the
matting step 8x slower); the choice is the ``lightstage.bfloat16`` tag.

Under torchrun on CUDA each process takes the GPU of its local rank. Commands
(``lightstage``, the benchmarks) take ``--device`` and ``--threads``, which set
the same variables (``add_options``, ``configure_from``).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from pipeline import ConfigError

DEVICE_ENV = "LIGHTSTAGE_DEVICE"
THREADS_ENV = "LIGHTSTAGE_THREADS"
NPROC_ENV = "LIGHTSTAGE_NPROC"
WORKERS_ENV = "LIGHTSTAGE_WORKERS"


@dataclass(frozen=True)
class Execution:
    device: str  # a torch device string
    threads: int
    processes: int
    workers: int = 1  # data-loading processes

    def tags(self) -> dict[str, str]:
        """For MLflow: where the run ran (tags, never params)."""
        return {"lightstage.device": self.device, "lightstage.threads": str(self.threads),
                "lightstage.processes": str(self.processes), "lightstage.workers": str(self.workers),
                "lightstage.bfloat16": "native" if native_bfloat16(self.device) else "emulated"}


BFLOAT16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})  # /proc/cpuinfo's names


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux lists them (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def native_bfloat16(device: str) -> bool:
    """Whether ``device`` computes bfloat16 convolutions and products in hardware."""
    import torch

    if device.startswith("cuda"):
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return bool(BFLOAT16_CPU_FLAGS & cpu_flags())


def _int_env(name: str, default: int, least: int = 1) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"environment {name}={value!r}: expected a whole number") from None
    if number < least:
        raise ConfigError(f"environment {name}={value!r}: must be at least {least}")
    return number


def requested_processes() -> int:
    return _int_env(NPROC_ENV, 1)


def configure() -> Execution:
    """Read the execution settings, apply the thread count, and return them."""
    import torch

    requested = os.environ.get(DEVICE_ENV, "").strip()
    cuda = torch.cuda.is_available()
    if requested and requested.startswith("cuda") and not cuda:
        raise ConfigError(f"environment {DEVICE_ENV}={requested!r}, but torch finds no CUDA device")
    if requested and not requested.startswith(("cuda", "cpu")):
        raise ConfigError(f"environment {DEVICE_ENV}={requested!r}: expected cpu or cuda[:index]")
    device = requested or ("cuda" if cuda else "cpu")
    local_rank = os.environ.get("LOCAL_RANK")
    if device == "cuda" and local_rank is not None:
        device = f"cuda:{int(local_rank)}"
    threads = _int_env(THREADS_ENV, torch.get_num_threads())
    torch.set_num_threads(threads)
    return Execution(device=device, threads=threads, processes=int(os.environ.get("WORLD_SIZE", "1")),
                     workers=_int_env(WORKERS_ENV, 0 if device == "cpu" else 1, least=0))


def add_options(parser: argparse.ArgumentParser) -> None:
    """``--device`` and ``--threads``: a command's way to set the execution environment."""
    parser.add_argument("--device", help=f"cpu, cuda or cuda:N (sets {DEVICE_ENV}; default: cuda when present, else cpu)")
    parser.add_argument("--threads", type=int, help=f"torch CPU threads (sets {THREADS_ENV}; default: torch's own)")


def configure_from(device: str | None, threads: int | None) -> Execution:
    """Set the environment from command-line options (None: leave it), then ``configure()``, so
    a flag and its variable take the same path, and child processes inherit the choice."""
    if device is not None:
        os.environ[DEVICE_ENV] = device
    if threads is not None:
        os.environ[THREADS_ENV] = str(threads)
    return configure()
