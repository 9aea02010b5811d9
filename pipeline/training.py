"""A resumable training loop: cosine learning rate, checkpoints, loss history, progress bar.

The caller owns the networks and optimisers and gives a step function that draws
a batch, computes losses, and steps the optimisers. Everything that decides
what happens next (weights, optimiser moments, numpy and torch random states,
step, history) is checkpointed to ``work``; a run resumes only a state made
with the same ``tag`` (a fingerprint of params and data).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from pipeline.models import checkpoint

STATE_FILE = "train_state.pt"


def cosine_rate(base: float, step: int, steps: int) -> float:
    """Cosine decay from ``base`` to a tenth of it over ``steps``."""
    progress = min(step / max(steps, 1), 1.0)
    return base * (0.1 + 0.45 * (1 + np.cos(np.pi * progress)))


@dataclass(frozen=True)
class LoopSettings:
    steps: int
    learning_rate: float
    checkpoint_every: int
    seed: int
    name: str  # for the progress bar


@dataclass
class Loop:
    modules: dict[str, torch.nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    rng: np.random.Generator
    step: int = 0
    history: list[tuple[int, dict[str, float]]] = field(default_factory=list)


def new_loop(modules: dict[str, torch.nn.Module], learning_rate: float, seed: int,
             critics: tuple[str, ...] = ()) -> Loop:
    """Adam for each module; WGAN critics get the customary betas (0.5, 0.9)."""
    optimizers = {name: torch.optim.Adam(module.parameters(), learning_rate, betas=(0.5, 0.9) if name in critics else (0.9, 0.999))
                  for name, module in modules.items()}
    return Loop(modules=modules, optimizers=optimizers, rng=np.random.default_rng(seed))


def _payload(loop: Loop, tag: str) -> dict:
    return {"fingerprint": tag, "step": loop.step, "history": loop.history,
            "modules": {k: m.state_dict() for k, m in loop.modules.items()},
            "optimizers": {k: o.state_dict() for k, o in loop.optimizers.items()},
            "numpy_rng": loop.rng.bit_generator.state, "torch_rng": torch.get_rng_state()}


def _restore(loop: Loop, payload: dict) -> None:
    for name, module in loop.modules.items():
        module.load_state_dict(payload["modules"][name])
    for name, optimizer in loop.optimizers.items():
        optimizer.load_state_dict(payload["optimizers"][name])
    loop.rng.bit_generator.state = payload["numpy_rng"]
    torch.set_rng_state(payload["torch_rng"])
    loop.step, loop.history = payload["step"], list(payload["history"])


def run_loop(loop: Loop, step: Callable[[Loop], dict[str, float]], settings: LoopSettings, work: Path, tag: str) -> int:
    """Run ``step`` until ``settings.steps``; return the step it resumed from (0 for a fresh run)."""
    state_path = work / STATE_FILE
    if state_path.is_file():
        payload = checkpoint.load(state_path)
        if payload.get("fingerprint") == tag:
            _restore(loop, payload)
    resumed = loop.step
    for module in loop.modules.values():
        module.train()
    with tqdm(total=settings.steps, initial=loop.step, desc=f"train {settings.name}", unit="step") as progress:
        while loop.step < settings.steps:
            for optimizer in loop.optimizers.values():
                for group in optimizer.param_groups:
                    group["lr"] = cosine_rate(settings.learning_rate, loop.step, settings.steps)
            losses = step(loop)
            loop.step += 1
            loop.history.append((loop.step, losses))
            progress.update(1)
            progress.set_postfix(loss=f"{losses['total']:.4f}")
            if loop.step % settings.checkpoint_every == 0 or loop.step == settings.steps:
                checkpoint.save(state_path, _payload(loop, tag))
    for module in loop.modules.values():
        module.eval()
    return resumed


def fit(modules: dict[str, torch.nn.Module], step: Callable[[Loop], dict[str, float]], settings: LoopSettings,
        work: Path, params: dict, data_hashes: dict[str, str], critics: tuple[str, ...] = ()) -> tuple[Loop, int]:
    """A fresh loop (Adam per module) run to the end, resuming a checkpoint in ``work`` made with
    the same params and data. Returns the loop and the step it resumed from."""
    loop = new_loop(modules, settings.learning_rate, settings.seed, critics)
    resumed = run_loop(loop, step, settings, work, checkpoint.fingerprint(params, data_hashes))
    return loop, resumed


def loss_summary(history: list[tuple[int, dict[str, float]]]) -> tuple[pd.DataFrame, dict[str, float]]:
    """The loss curve as a table (for dvc plots) and each loss averaged over the last tenth of the run."""
    curve = pd.DataFrame([{"step": step, **losses} for step, losses in history])
    tail = curve.tail(max(1, len(curve) // 10)).mean()
    return curve, {f"final_{name}": float(tail[name]) for name in curve.columns if name != "step"}
