"""Training cost per step for every training stage of a profile, and what loading data
beside the computation saves.

    .venv/bin/python benchmarks/training.py [--profile paper] [--steps 3] [--device cuda] [--threads 2]
    .venv/bin/python benchmarks/training.py --data data --loop-steps 60   # loader overlap, default profile

Part 1 builds each stage's models exactly as the stage does (``cfg.model.build()``
from the profile-resolved params) and times whole training steps (forward,
losses, backward, optimiser steps, the critic's too where the profile has one)
on random batches of the profile's batch and crop, in the stage's precision
(and, for a stage in bfloat16, in float32 too, with the ratio); it prints milliseconds per
step, the convolutions' floating-point operations per step (counted by hooks),
the hours ``steps`` would take here, and an estimate for one GPU from those
operations at an assumed sustained rate (``ASSUMED_GPU_FLOPS``; an estimate, not
a measurement: on a machine with a GPU, ``--device cuda`` measures it). With ``--baseline`` (another
params file) it times that file's models too and prints the ratio; then it times Adam's update
alone, fused against torch's per-parameter loop. Part 2 (with ``--data``, a folder that
``dvc repro`` filled) runs the real matting and geometry loops on real data with
the data read in the training process (``LIGHTSTAGE_WORKERS=0``: how every
training stage loaded its data before the engine) and with one loader process,
and prints the ratio, both from this run.
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import torch

from pipeline.config import load_params
from pipeline.device import add_options, configure_from, native_bfloat16
from pipeline.matting.training import MattingObjective
from pipeline.models.matting import MattingLossWeights
from pipeline.relighting.training import geometry_step
from pipeline.training import CropPlan, Trainer, TrainSettings, adam
from pipeline.training_cases import stage_cases

# For the GPU estimate: an assumed sustained rate for convolutions in TF32 on one H100 (about a
# fifth of its ~500 TFLOP/s dense TF32 peak; U-Nets with many thin layers rarely do better).
ASSUMED_GPU_FLOPS = 100e12


def conv_flops(modules: dict, step, trainer, batch) -> float:
    """Floating-point operations of convolutions and linear layers in one training step: forward
    multiply-adds counted by hooks (x2 for multiply and add), the backward pass taken as twice the
    forward (gradients of inputs and of weights)."""
    total = [0.0]

    def count(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            per_output = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            total[0] += 2.0 * output.numel() * per_output
        elif isinstance(module, torch.nn.Linear):
            total[0] += 2.0 * output.numel() * module.in_features

    hooks = [m.register_forward_hook(count) for net in modules.values() for m in net.modules()]
    step(trainer, batch)
    for hook in hooks:
        hook.remove()
    return 3.0 * total[0]


def time_steps(case, device: str, steps: int, precision: str | None = None) -> tuple[float, float]:
    """Seconds per step, and floating-point operations per step, in the stage's precision (or ``precision``)."""
    name, cfg, modules, optimizers, step, batch = case
    precision = precision or getattr(cfg, "precision", "float32")
    trainer = Trainer(modules, optimizers, TrainSettings(steps, cfg.batch, steps, 0, name, precision=precision), device)
    batch = trainer.place(batch)  # on the device, in the engine's layout
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    with trainer.autocast():
        flops = conv_flops(modules, step, trainer, batch)  # also the warm-up: allocations, kernel choices
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        with trainer.autocast():  # as Trainer.fit runs a step
            step(trainer, batch)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        print(f"  {name} in {precision}: peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    return (time.perf_counter() - start) / steps, flops


def scaled_step(case, device: str, steps: int, crop: int | None, precision: str | None = None) -> tuple[float, float]:
    """``time_steps``, scaled to the profile's crop by the pixel count when timed at ``crop``."""
    seconds, flops = time_steps(case, device, steps, precision)
    scale = (case.cfg.crop / crop) ** 2 if crop else 1.0
    return seconds * scale, flops * scale


def adam_update(params, device: str, repeats: int = 100) -> None:
    """Adam's update alone for each stage's net: the fused kernel (``pipeline.training.adam``) against
    the per-parameter loop (torch's default on a CPU), both timed in this run."""
    for name in ("train_matting", "train_geometry", "train_shading"):
        net = params.section(name).model.build().to(device)
        for parameter in net.parameters():
            parameter.grad = torch.randn_like(parameter)
        seconds = {}
        for fused in (False, True):
            optimizer = torch.optim.Adam(net.parameters(), 1e-3, fused=fused)
            optimizer.step()  # the moments' allocation
            start = time.perf_counter()
            for _ in range(repeats):
                optimizer.step()
            seconds[fused] = (time.perf_counter() - start) / repeats
        print(f"{name}: Adam's update of {sum(1 for _ in net.parameters())} tensors, per-parameter loop "
              f"{seconds[False] * 1000:.1f} ms, fused {seconds[True] * 1000:.1f} ms: {seconds[False] / seconds[True]:.1f}x faster")


def loader_overlap(data: Path, steps: int, params) -> None:
    """The real matting and geometry loops, data read in-process against one loader process."""
    import os
    import tempfile

    from pipeline.matting.data import BatchRecipe, MattingCrops, matting_refs
    from pipeline.relighting.data import RelightCrops, training_refs

    m, g = params.section("train_matting"), params.section("train_geometry")
    recipe = BatchRecipe(m.batch, m.crop, tuple(m.band_fraction), m.coarse_share, m.texture_share)
    loops = {
        "train_matting": (lambda: {"matting": m.model.build()}, MattingObjective(MattingLossWeights(), 0.0), m,
                          lambda: MattingCrops(matting_refs(data / "processed/relight", data / "raw/lightstage",
                                                            data / "processed/trimaps", "train"), recipe, 0)),
        "train_geometry": (lambda: {"geometry": g.model.build()}, partial(geometry_step, l1=1.0, angular=1.0), g,
                           lambda: RelightCrops(training_refs(data / "processed/relight", data / "raw/lightstage",
                                                              data / "interim/lightmaps", g.crop), CropPlan(g.crop), 0)),
    }
    for name, (build, step, cfg, dataset) in loops.items():
        seconds = {}
        for workers in (0, 1):
            modules = build()
            trainer = Trainer(modules, {k: adam(v, 1e-3) for k, v in modules.items()},
                              TrainSettings(steps, cfg.batch, steps, 0, name, workers, getattr(cfg, "precision", "float32")))
            with tempfile.TemporaryDirectory() as work:
                start = time.perf_counter()
                trainer.fit(dataset(), step, Path(work), "benchmark")
                seconds[workers] = (time.perf_counter() - start) / steps
        print(f"{name}: data read in-process {seconds[0] * 1000:.0f} ms/step, with one loader process "
              f"{seconds[1] * 1000:.0f} ms/step: {seconds[0] / seconds[1]:.2f}x faster ({os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default", choices=("tiny", "default", "paper"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--steps", type=int, default=3, help="timed steps per stage (after one warm-up step)")
    parser.add_argument("--data", type=Path, help="also compare data loading in-process and in a loader process")
    parser.add_argument("--loop-steps", type=int, default=60)
    parser.add_argument("--baseline", type=Path, help="another params file (say, an older commit's: git show REV:params.yaml "
                        "> old.yaml): time its models too, in this run, and print the ratio per stage")
    parser.add_argument("--crop", type=int, help="time batches of this crop instead of the profile's, and scale time "
                        "and operations to the profile's crop by the pixel count (convolutions are linear in it)")
    add_options(parser)
    args = parser.parse_args()
    execution = configure_from(args.device, args.threads)
    params = load_params(args.params, profile=args.profile)
    scaled = f", timed at {args.crop}^2 crops and scaled by pixels" if args.crop else ""
    print(f"profile {args.profile} on {execution.device} ({execution.threads} CPU threads){scaled}")
    baselines = stage_cases(load_params(args.baseline, profile=args.profile), args.crop) if args.baseline else None
    for index, case in enumerate(stage_cases(params, args.crop)):
        seconds, flops = scaled_step(case, execution.device, args.steps, args.crop)
        name, cfg = case.name, case.cfg
        parameters = sum(p.numel() for m in case.modules.values() for p in m.parameters())
        gpu = flops / ASSUMED_GPU_FLOPS
        print(f"{name}: {parameters:,} parameters, batch {cfg.batch} x {cfg.crop}^2, {flops / 1e9:,.0f} GFLOP/step: "
              f"{seconds * 1000:,.0f} ms/step here ({flops / seconds / 1e9:.0f} GFLOP/s); {cfg.steps:,} steps = "
              f"{cfg.steps * seconds / 3600:,.1f} h here, about {cfg.steps * gpu / 3600:,.1f} h on one H100 "
              f"at an assumed {ASSUMED_GPU_FLOPS / 1e12:.0f} TFLOP/s")
        if getattr(cfg, "precision", "float32") != "float32":
            bf16, _ = scaled_step(case, execution.device, args.steps, args.crop, "bfloat16")
            fp32, _ = scaled_step(case, execution.device, args.steps, args.crop, "float32")
            native = "native" if native_bfloat16(execution.device) else "emulated"
            print(f"  precision {cfg.precision}: bfloat16 ({native} here) {bf16 * 1000:,.0f} ms/step, float32 "
                  f"{fp32 * 1000:,.0f} ms/step: {fp32 / bf16:.2f}x faster in bfloat16")
        if baselines:
            old_seconds, old_flops = scaled_step(baselines[index], execution.device, args.steps, args.crop)
            old_cfg = baselines[index].cfg
            print(f"  {args.baseline}: batch {old_cfg.batch} x {old_cfg.crop}^2, {old_flops / 1e9:,.0f} GFLOP/step, "
                  f"{old_seconds * 1000:,.0f} ms/step; whole run {old_cfg.steps * old_seconds:,.0f} s -> "
                  f"{cfg.steps * seconds:,.0f} s: {old_cfg.steps * old_seconds / (cfg.steps * seconds):.2f}x faster "
                  f"(model steps only, no data)")
    adam_update(params, execution.device)
    import resource

    print(f"peak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    if args.data is not None:
        loader_overlap(args.data, args.loop_steps, load_params(args.params, profile="default"))


if __name__ == "__main__":
    main()
