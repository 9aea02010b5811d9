"""Data-parallel training over several processes (torchrun), and launching a stage under torchrun.

Under ``torchrun --nproc_per_node N`` every process runs the same stage; each
takes its share of every batch, gradients are averaged across processes before
each optimiser step, and only rank 0 writes outputs, checkpoints, metrics and
MLflow runs. Gloo on the CPU, NCCL on CUDA.

Gradients are all-reduced here rather than by ``DistributedDataParallel``'s
reducer: DDP "does not work with torch.autograd.grad()" (its documentation),
and the gradient penalties of WGAN-GP and R1 take exactly such a gradient, with
the critic also run inside the generator's step. The average is the same one
DDP computes.
"""

from __future__ import annotations

import os
import sys

import torch

from pipeline import ConfigError
from pipeline.device import requested_processes


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def under_torchrun() -> bool:
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def init(device: str) -> None:
    """Join the process group torchrun set up (no-op for a single process)."""
    import torch.distributed as dist

    if world_size() > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")


def barrier() -> None:
    """Wait for every process (no-op for one)."""
    import torch.distributed as dist

    if world_size() > 1 and dist.is_initialized():
        dist.barrier()


def shutdown() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def share(total: int) -> range:
    """The positions of a batch of ``total`` samples this process takes (contiguous, near-equal)."""
    size, me = world_size(), rank()
    if total < size:
        raise ConfigError(f"a batch of {total} cannot be split over {size} processes")
    start, stop = total * me // size, total * (me + 1) // size
    return range(start, stop)


def average_gradients(parameters, weight: float) -> None:
    """All-reduce the gradients of ``parameters``: each process's loss, scaled by its share
    ``weight`` of the batch, summed over processes (one flat buffer per call)."""
    import torch.distributed as dist

    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    if world_size() == 1 or not dist.is_initialized():
        return
    flat = torch.cat([g.reshape(-1) for g in grads]) * weight
    dist.all_reduce(flat)
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def broadcast_module(module: torch.nn.Module) -> None:
    """Rank 0's weights to every process (the seeds agree; this makes sure)."""
    import torch.distributed as dist

    if world_size() > 1 and dist.is_initialized():
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, 0)


def relaunch_command(module: str, argv: list[str]) -> list[str] | None:
    """The torchrun command that reruns ``python -m module argv`` in ``LIGHTSTAGE_NPROC`` processes,
    or None when one process is asked for or this already runs under torchrun."""
    processes = requested_processes()
    if processes <= 1 or under_torchrun():
        return None
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
            "-m", module, *argv]
