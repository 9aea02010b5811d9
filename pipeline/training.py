"""The one training engine: optimisers with their own schedules, registered state, lazy terms,
streamed loss history, devices and data-parallel processes, exact resume.

The caller owns its networks and gives
- ``optimizers``: name -> ``Optimization`` (a torch optimiser and its learning-rate
  ``Schedule``; each optimiser's rate follows its own, critics included),
- ``averages``: name of a module -> the half-life (steps, or a function of the step
  for a ramp-up) of an exponential moving average of its weights, updated by the
  loop after each step and saved in its place (``trained``),
- ``state``: anything else not optimised that must survive a resume (an adaptive
  augmentation probability): objects with ``state_dict()`` / ``load_state_dict()``,
- ``data``: a ``KeyedDataset`` whose item is a function of the seed, the global
  sample index and its step alone: the total batch may change by phase
  (``TrainSettings.batch_phases``), step ``t`` holds the next ``batch(t)`` indices,
  and each process takes its share, so neither resuming nor the number of processes
  changes the data,
- ``step``: ``step(trainer, batch) -> {loss name: float}`` that computes losses and
  calls ``trainer.descend(name, loss)`` per optimiser; ``trainer.due(k)`` says whether
  a lazy term (R1 every k steps, as StyleGAN2 and EG3D do) runs this step.

Whatever changes by phase (crop sizes, rendering resolutions, a curriculum) is a
function of the step (``phase_at``), so a resume lands in the right phase.

Checkpoints (``work/train_state.pt``, pipeline.models.checkpoint's format) hold
modules, optimisers, averages, registered state, the step and the torch random state, and
no history: the history streams, in batches at each checkpoint, to
``work/history.csv`` (the stage's plot) and to the stage's ``log_history`` (MLflow).
A run resumes only a state made with the same fingerprint (params and data),
and every step reaches the history exactly once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, NamedTuple, Protocol, TypeVar

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from pipeline import distributed
from pipeline.device import native_bfloat16
from pipeline.io.atomic import atomic_file
from pipeline.models import checkpoint
from pipeline.nn.losses import critic_loss, generator_adversarial_loss, lazy_penalty_weight
from pipeline.seeds import rng_for

STATE_FILE = "train_state.pt"
HISTORY_FILE = "history.csv"
STATE_FORMAT = 2  # the layout of a training state; a state of another layout is not resumed


@dataclass(frozen=True)
class Schedule:
    """A learning-rate factor over training: linear warm-up, then constant or cosine down to ``floor``."""

    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    kind: Literal["cosine", "constant"] = "cosine"
    warmup: int = 0  # steps of linear warm-up from 0
    floor: float = 0.1  # cosine ends at this share of the base rate

    def factor(self, step: int, steps: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        if self.kind == "constant":
            return 1.0
        progress = min((step - self.warmup) / max(steps - self.warmup, 1), 1.0)
        return self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * progress))

    def check(self, steps: int) -> None:
        """The warm-up ends before the last of ``steps`` (else the rate never reaches its value).
        Raises ValueError, for a params validator to report with the section's key."""
        if self.warmup >= steps:
            raise ValueError(f"schedule.warmup ({self.warmup}) must end before steps ({steps}): "
                             "the rate would never reach learning_rate")


@dataclass
class Optimization:
    """A torch optimiser and the schedule its rates follow (the rates it was built with are the base)."""

    optimizer: torch.optim.Optimizer
    schedule: Schedule = field(default_factory=Schedule)
    clip: float = 0.0  # the largest norm of its parameters' gradient (averaged over processes); 0: unclipped

    def __post_init__(self):
        for group in self.optimizer.param_groups:
            group.setdefault("base_lr", group["lr"])

    def set_rate(self, step: int, steps: int) -> None:
        factor = self.schedule.factor(step, steps)
        for group in self.optimizer.param_groups:
            group["lr"] = group["base_lr"] * factor


def adam(module: torch.nn.Module, rate: float, betas: tuple[float, float] = (0.9, 0.999),
         schedule: Schedule | None = None) -> Optimization:
    """Adam in its fused form: one kernel updates every parameter (on a 2-core CPU the matting net's
    update took 1.8 ms against 7.9 for the per-parameter loop; ``benchmarks/training.py``)."""
    return Optimization(torch.optim.Adam(module.parameters(), rate, betas=betas, fused=True), schedule or Schedule())


WGAN_BETAS = (0.5, 0.9)  # Adam's betas for a WGAN-GP critic (Gulrajani et al. 2017)


def training_setup(name: str, net: torch.nn.Module, rate: float, schedule: Schedule, critic: torch.nn.Module | None = None
                   ) -> tuple[dict[str, torch.nn.Module], dict[str, Optimization]]:
    """The modules and optimisers of a net trained alone or against a WGAN-GP critic (``None``: none),
    both on one rate and schedule."""
    modules, optimizers = {name: net}, {name: adam(net, rate, schedule=schedule)}
    if critic is not None:
        modules["critic"], optimizers["critic"] = critic, adam(critic, rate, WGAN_BETAS, schedule)
    return modules, optimizers


def adversarial_terms(trainer: Trainer, real: torch.Tensor, fake: torch.Tensor, mix: torch.Tensor,
                      penalty_every: int = 1, critic: str = "critic") -> dict[str, torch.Tensor]:
    """One WGAN-GP round against the critic of ``training_setup``: the critic descends on its loss
    (the gradient penalty on interpolates ``mix``, lazily every ``penalty_every`` steps), then the
    generator's adversarial term is returned for its caller to add to its own total:
    ``{"critic": loss, "adversarial": term}``."""
    net = trainer.modules[critic]
    penalty = lazy_penalty_weight(trainer.due(penalty_every), penalty_every)
    terms = {"critic": critic_loss(net, real, fake, mix, penalty)}
    trainer.descend(critic, terms["critic"])
    terms["adversarial"] = generator_adversarial_loss(net, fake)
    return terms


class Phased(Protocol):
    steps: int  # how many steps the phase holds


P = TypeVar("P", bound=Phased)


class PhaseAt(NamedTuple, Generic[P]):
    """Where a step falls in a sequence of phases (``phase_at``)."""

    phase: P | None  # the phase that holds (None after the last)
    index: int  # its position in the sequence (the sequence's length after the last)
    into: int  # steps since it began (since the last ended, after the last)


def phase_at(phases: Sequence[P], step: int) -> PhaseAt[P]:
    """The phase that holds at ``step`` (each holds for its ``steps``, in order): crop sizes,
    rendering resolutions, batches and curricula that change by phase are all read through this."""
    start = 0
    for index, phase in enumerate(phases):
        if step < start + phase.steps:
            return PhaseAt(phase, index, step - start)
        start += phase.steps
    return PhaseAt(None, len(phases), step - start)


@dataclass(frozen=True)
class CropPhase:
    """An early phase of progressive resizing: ``steps`` steps on crops of ``crop`` pixels."""

    __pydantic_config__ = {"strict": False, "extra": "forbid"}  # a params field (pipeline/schema)

    steps: int
    crop: int


@dataclass(frozen=True)
class CropPlan:
    """The crop side at every step: each early phase's crop for its steps, in order, then ``crop``
    (progressive resizing: a fully convolutional net learns local statistics on small, cheap crops
    first). Items read it at their step (``SampleKey``), so the plan holds on any split and resume."""

    crop: int
    early: tuple[CropPhase, ...] = ()

    def at_step(self, step: int) -> int:
        phase = phase_at(self.early, step).phase
        return self.crop if phase is None else phase.crop

    def pixel_share(self, steps: int) -> float:
        """Pixels trained over ``steps`` steps as a share of training on ``crop`` throughout (the cost ratio)."""
        total, start = 0, 0
        for phase in self.early:
            total += max(0, min(phase.steps, steps - start)) * phase.crop**2
            start += phase.steps
        return (total + max(0, steps - start) * self.crop**2) / (steps * self.crop**2)


@dataclass(frozen=True)
class BatchPhase:
    """An early phase of a curriculum: ``steps`` steps of ``batch`` samples in all."""

    steps: int
    batch: int


class SampleKey(NamedTuple):
    """What a training item is drawn from: its global sample index and the step it belongs to."""

    index: int
    step: int


class Stateful(Protocol):
    def state_dict(self) -> dict: ...
    def load_state_dict(self, state: dict) -> Any: ...


HalfLife = float | Callable[[int], float]  # steps; a function of the step for a ramp-up


class EMA:
    """An exponential moving average of a module's weights (a frozen copy): at each update the
    weight of the past halves every ``half_life`` updates. Buffers are copied, not averaged."""

    def __init__(self, module: torch.nn.Module):
        import copy

        self.module = copy.deepcopy(module).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, source: torch.nn.Module, half_life: float) -> None:
        decay = 0.5 ** (1.0 / max(half_life, 1e-8))
        for average, current in zip(self.module.parameters(), source.parameters()):
            average.lerp_(current, 1.0 - decay)
        for average, current in zip(self.module.buffers(), source.buffers()):
            average.copy_(current)

    def state_dict(self) -> dict:
        return self.module.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state)


Precision = Literal["auto", "float32", "bfloat16"]  # auto: bfloat16 where the device has it natively


@dataclass(frozen=True)
class TrainSettings:
    steps: int
    batch: int  # the total batch (after any ``batch_phases``); each process takes its share
    checkpoint_every: int
    seed: int
    name: str  # for the progress bar
    workers: int = 0  # data-loading processes (0: load in this process)
    precision: Precision = "float32"  # "bfloat16": the step's forward and losses under autocast, weights in float32;
    #                                    "auto": bfloat16 where the device has it natively (pipeline.device)
    batch_phases: tuple[BatchPhase, ...] = ()  # a curriculum's early phases, then ``batch``

    def batch_at(self, step: int) -> int:
        phase = phase_at(self.batch_phases, step).phase
        return self.batch if phase is None else phase.batch

    def first_sample(self, step: int) -> int:
        """The global index of step ``step``'s first sample (the samples of the steps before it)."""
        done, start = 0, 0
        for phase in self.batch_phases:
            if step <= start + phase.steps:
                return done + (step - start) * phase.batch
            done, start = done + phase.steps * phase.batch, start + phase.steps
        return done + (step - start) * self.batch


class KeyedDataset(torch.utils.data.Dataset):
    """Training items addressed by ``SampleKey``; item ``i`` draws all its randomness (which
    sample, crops, flips, noise) from the generator of (seed, purpose, i) alone, so it does not
    depend on the order, the process or the worker that reads it; what changes by phase (a crop
    size) it reads at the key's step."""

    purpose = "samples"

    def __init__(self, seed: int):
        self.seed = seed

    def __getitem__(self, key: SampleKey) -> Any:
        return self.item(rng_for(self.seed, self.purpose, int(key.index)), key)

    def item(self, rng: np.random.Generator, key: SampleKey) -> Any:
        raise NotImplementedError

    def collate(self, items: list) -> Any:
        raise NotImplementedError



HistoryRows = list[tuple[int, dict[str, float]]]


class History:
    """The loss history: buffered, then appended to a CSV in the work folder and handed to
    ``log`` (MLflow) at each checkpoint; on resume, rows past the checkpoint are dropped
    and the kept ones replayed to ``log``, so each step is recorded exactly once."""

    def __init__(self, path: Path, log: Callable[[HistoryRows], None] | None):
        self.path, self.log, self.pending = path, log, []

    def resume(self, step: int) -> None:
        kept = self.table()
        kept = kept[kept["step"] <= step] if len(kept) else kept
        if not len(kept):
            self.path.unlink(missing_ok=True)
            return
        self._write(kept)
        if self.log is not None:
            self.log(_rows(kept))

    def add(self, step: int, losses: dict[str, float]) -> None:
        self.pending.append((step, losses))

    def flush(self) -> None:
        """Append the pending rows (the whole file is rewritten only when a new loss name appears)."""
        if not self.pending:
            return
        fresh = pd.DataFrame([{"step": step, **losses} for step, losses in self.pending])
        columns = list(pd.read_csv(self.path, nrows=0).columns) if self.path.is_file() else []
        if columns and set(fresh.columns) <= set(columns):
            with open(self.path, "a") as handle:
                fresh.reindex(columns=columns).to_csv(handle, index=False, header=False, float_format="%.6g")
        else:
            self._write(pd.concat([self.table(), fresh], ignore_index=True))
        if self.log is not None:
            self.log(self.pending)
        self.pending = []

    def table(self) -> pd.DataFrame:
        return pd.read_csv(self.path) if self.path.is_file() else pd.DataFrame()

    def _write(self, table: pd.DataFrame) -> None:
        with atomic_file(self.path, "w") as handle:
            table.to_csv(handle, index=False, float_format="%.6g")


class StepBatches(torch.utils.data.Sampler):
    """This process's share of each step's samples, step after step, from ``start``: one list of
    ``SampleKey`` per step."""

    def __init__(self, start: int, settings: TrainSettings):
        self.start, self.settings = start, settings

    def __iter__(self):
        for step in range(self.start, self.settings.steps):
            first = self.settings.first_sample(step)
            yield [SampleKey(first + j, step) for j in distributed.share(self.settings.batch_at(step))]

    def __len__(self) -> int:
        return self.settings.steps - self.start


def _rows(table: pd.DataFrame) -> HistoryRows:
    return [(int(row["step"]), {k: float(v) for k, v in row.items() if k != "step" and pd.notna(v)})
            for row in table.to_dict("records")]


# Images and convolution weights are kept channels-last (NHWC): one layout for every model, faster
# convolutions (per training step on a 2-core CPU: matting 1.33x, geometry 1.18x, albedo and shading
# 1.05x; benchmarks/training.py times the layout the engine uses). Numerics differ only in rounding.
LAYOUT = torch.channels_last


class Trainer:
    """Runs ``step`` from the last checkpoint (or 0) to ``settings.steps``."""

    def __init__(self, modules: Mapping[str, torch.nn.Module], optimizers: Mapping[str, Optimization],
                 settings: TrainSettings, device: str = "cpu", state: Mapping[str, Stateful] | None = None,
                 averages: Mapping[str, HalfLife] | None = None):
        self.modules, self.optimizers, self.settings = dict(modules), dict(optimizers), settings
        self.state = dict(state or {})
        self.device = torch.device(device)
        self.bfloat16 = settings.precision == "bfloat16" or (
            settings.precision == "auto" and native_bfloat16(str(self.device)))
        self.step = 0
        for batch in {settings.batch, *(phase.batch for phase in settings.batch_phases)}:
            distributed.share(batch)  # refuses a batch smaller than the number of processes, before any step
        for module in self.modules.values():
            module.to(self.device, memory_format=LAYOUT)
            distributed.broadcast_module(module)
        self.half_lives = {name: half_life for name, half_life in (averages or {}).items()
                           if callable(half_life) or half_life > 0}
        self.averages = {name: EMA(self.modules[name]) for name in self.half_lives}

    @property
    def batch(self) -> int:
        """The total batch of the current step."""
        return self.settings.batch_at(self.step)

    def trained(self, name: str) -> torch.nn.Module:
        """What a stage saves of module ``name``: its weight average where it has one, else the module."""
        average = self.averages.get(name)
        return self.modules[name] if average is None else average.module

    def _update_averages(self) -> None:
        for name, average in self.averages.items():
            half_life = self.half_lives[name]
            average.update(self.modules[name], half_life(self.step) if callable(half_life) else half_life)

    def place(self, batch: Any) -> Any:
        """A batch (a tensor, or a tuple, NamedTuple, list or dict of them and of None) on the
        device, images in ``LAYOUT``."""
        if isinstance(batch, torch.Tensor):
            layout = LAYOUT if batch.dim() == 4 else torch.preserve_format
            return batch.to(self.device, non_blocking=True, memory_format=layout)
        if isinstance(batch, tuple) and hasattr(batch, "_fields"):
            return type(batch)(*(self.place(v) for v in batch))
        if isinstance(batch, (tuple, list)):
            return type(batch)(self.place(v) for v in batch)
        if isinstance(batch, dict):
            return {k: self.place(v) for k, v in batch.items()}
        return batch

    def autocast(self) -> torch.autocast:
        """Mixed precision for a step when the settings ask for it: convolutions and matrix products
        in bfloat16 (on the CPU, where it pays: AVX512-BF16 or AMX), reductions, losses, weights and
        optimiser state in float32."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bfloat16)

    def due(self, interval: int) -> bool:
        """Whether a term that runs every ``interval`` steps runs at this step."""
        return interval > 0 and self.step % interval == 0

    def descend(self, name: str, loss: torch.Tensor) -> None:
        """One optimiser step on ``loss`` (this process's mean over its share of the batch)."""
        optimization = self.optimizers[name]
        optimization.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        parameters = [p for group in optimization.optimizer.param_groups for p in group["params"]]
        distributed.average_gradients(parameters, len(distributed.share(self.batch)) / self.batch)
        if optimization.clip > 0:
            torch.nn.utils.clip_grad_norm_(parameters, optimization.clip)
        optimization.optimizer.step()

    # -- checkpoints ---------------------------------------------------------------------------

    def payload(self, tag: str) -> dict:
        return {"fingerprint": tag, "format": STATE_FORMAT, "step": self.step,
                "modules": {k: m.state_dict() for k, m in self.modules.items()},
                "optimizers": {k: o.optimizer.state_dict() for k, o in self.optimizers.items()},
                "averages": {k: a.state_dict() for k, a in self.averages.items()},
                "state": {k: s.state_dict() for k, s in self.state.items()},
                "torch_rng": torch.get_rng_state()}

    def restore(self, payload: dict) -> None:
        for name, module in self.modules.items():
            module.load_state_dict(payload["modules"][name])
        for name, optimization in self.optimizers.items():
            optimization.optimizer.load_state_dict(payload["optimizers"][name])
        for name, average in self.averages.items():
            average.load_state_dict(payload["averages"][name])
        for name, item in self.state.items():
            item.load_state_dict(payload["state"][name])
        torch.set_rng_state(payload["torch_rng"])
        self.step = int(payload["step"])

    # -- the loop --------------------------------------------------------------------------------

    def fit(self, data: KeyedDataset, step: Callable[[Trainer, Any], dict[str, float]], work: Path, tag: str,
            log_history: Callable[[HistoryRows], None] | None = None,
            after_step: Callable[[Trainer], None] | None = None) -> int:
        """Train to the end; return the step resumed from (0 for a fresh run). ``after_step(trainer)``
        runs in every process after each step and its averages' update (``trainer.step`` counts it),
        before any checkpoint:
        snapshots and sample grids, which must come out the same on a resumed run."""
        state_path, main = work / STATE_FILE, distributed.is_main()
        if state_path.is_file():
            payload = checkpoint.load(state_path)
            if payload.get("fingerprint") == tag and payload.get("format") == STATE_FORMAT:
                self.restore(payload)
        resumed = self.step
        history = History(work / HISTORY_FILE, log_history if main else None)
        if main:
            history.resume(resumed)
        for module in self.modules.values():
            module.train()
        batches = self._loader(data, resumed)
        with tqdm(total=self.settings.steps, initial=resumed, desc=f"train {self.settings.name}", unit="step",
                  disable=not main) as progress:
            for batch in batches:
                for optimization in self.optimizers.values():
                    optimization.set_rate(self.step, self.settings.steps)
                with self.autocast():
                    losses = step(self, self.place(batch))
                self._update_averages()
                self.step += 1
                history.add(self.step, losses)
                progress.update(1)
                progress.set_postfix(loss=f"{losses.get('total', float('nan')):.4f}")
                if after_step is not None:
                    after_step(self)
                if self.step % self.settings.checkpoint_every == 0 or self.step == self.settings.steps:
                    if main:
                        history.flush()  # before the checkpoint: a crash between the two replays, never skips
                        checkpoint.save(state_path, self.payload(tag))
        for module in self.modules.values():
            module.eval()
        return resumed

    def _loader(self, data: KeyedDataset, start: int) -> Iterable:
        # A loader draws its workers' base seed when iterated; from torch's global generator that draw
        # would shift the random state a resumed step sees (noise, augmentation), so it has its own.
        return torch.utils.data.DataLoader(
            data, batch_sampler=StepBatches(start, self.settings), collate_fn=data.collate,
            generator=torch.Generator().manual_seed(self.settings.seed),
            num_workers=self.settings.workers, persistent_workers=False,
            worker_init_fn=_one_thread if self.settings.workers else None,
            prefetch_factor=4 if self.settings.workers else None)


def _one_thread(_: int) -> None:
    torch.set_num_threads(1)  # loaders share the cores with the training process


def history_summary(work: Path) -> tuple[pd.DataFrame, dict[str, float]]:
    """The loss curve (for dvc plots) and each loss averaged over the last tenth of the steps that
    recorded it (a lazy regulariser's every k-th step; on rank 0, which writes the history; other
    processes get an empty table)."""
    if not distributed.is_main():
        return pd.DataFrame({"step": []}), {}
    curve = pd.read_csv(work / HISTORY_FILE)
    summary = {}
    for name in curve.columns.drop("step"):
        recorded = curve[name].dropna()
        summary[f"final_{name}"] = float(recorded.tail(max(1, len(recorded) // 10)).mean())
    return curve, summary


@dataclass(frozen=True)
class RunIdentity:
    """What a trained model records about its run, and the resume fingerprint made of it."""

    params: dict  # resolved params, flat (base and the stage's section)
    data_hashes: dict[str, str]  # DVC md5 of every input

    @property
    def fingerprint(self) -> str:
        return checkpoint.fingerprint(self.params, self.data_hashes)


def run_identity(base, section, name: str, inputs: Mapping[str, Path]) -> RunIdentity:
    from pipeline.config import flatten
    from pipeline.lineage import dvc_md5

    return RunIdentity({**flatten(base, "base"), **flatten(section, name)}, {k: dvc_md5(p) for k, p in inputs.items()})
