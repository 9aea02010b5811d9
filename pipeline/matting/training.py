"""Training the matting network: resumable, with an optional WGAN-GP critic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from pipeline.matting.data import BatchRecipe, MattingSample, sample_batch
from pipeline.models import checkpoint
from pipeline.models.matting import MattingLossWeights, MattingNet, matting_losses
from pipeline.nn.critic import CriticConfig, PatchCritic
from pipeline.nn.losses import critic_loss, generator_adversarial_loss
from pipeline.training import cosine_rate


@dataclass(frozen=True)
class TrainSettings:
    steps: int
    learning_rate: float
    recipe: BatchRecipe
    weights: MattingLossWeights
    adversarial_weight: float  # 0 disables the critic
    checkpoint_every: int
    seed: int


@dataclass
class TrainState:
    model: MattingNet
    optimizer: torch.optim.Optimizer
    critic: PatchCritic | None
    critic_optimizer: torch.optim.Optimizer | None
    rng: np.random.Generator
    step: int = 0
    history: list[tuple[int, dict[str, float]]] = field(default_factory=list)


def new_state(model: MattingNet, settings: TrainSettings) -> TrainState:
    critic = critic_optimizer = None
    if settings.adversarial_weight > 0:
        critic = PatchCritic(CriticConfig(in_channels=4))  # image and alpha
        critic_optimizer = torch.optim.Adam(critic.parameters(), settings.learning_rate, betas=(0.5, 0.9))
    optimizer = torch.optim.Adam(model.parameters(), settings.learning_rate)
    return TrainState(model=model, optimizer=optimizer, critic=critic, critic_optimizer=critic_optimizer,
                      rng=np.random.default_rng(settings.seed))


def learning_rate(settings: TrainSettings, step: int) -> float:
    return cosine_rate(settings.learning_rate, step, settings.steps)


def _state_payload(state: TrainState, tag: str) -> dict:
    return {
        "fingerprint": tag, "step": state.step, "model": state.model.state_dict(), "optimizer": state.optimizer.state_dict(),
        "critic": state.critic.state_dict() if state.critic else None,
        "critic_optimizer": state.critic_optimizer.state_dict() if state.critic_optimizer else None,
        "numpy_rng": state.rng.bit_generator.state, "torch_rng": torch.get_rng_state(), "history": state.history,
    }


def _restore(state: TrainState, payload: dict) -> None:
    state.model.load_state_dict(payload["model"])
    state.optimizer.load_state_dict(payload["optimizer"])
    if state.critic is not None:
        state.critic.load_state_dict(payload["critic"])
        state.critic_optimizer.load_state_dict(payload["critic_optimizer"])
    state.rng.bit_generator.state = payload["numpy_rng"]
    torch.set_rng_state(payload["torch_rng"])
    state.step = payload["step"]
    state.history = list(payload["history"])


def train_step(state: TrainState, samples: list[MattingSample], settings: TrainSettings) -> dict[str, float]:
    for group in state.optimizer.param_groups:
        group["lr"] = learning_rate(settings, state.step)
    batch = sample_batch(samples, state.rng, settings.recipe)
    out = state.model(batch.image, batch.trimap, batch.guidance)
    losses = matting_losses(out, batch, settings.weights)
    total = losses["total"]
    if state.critic is not None:
        real = torch.cat([batch.image, batch.alpha], dim=1)
        fake = torch.cat([batch.image, out.alpha], dim=1)
        state.critic_optimizer.zero_grad()
        losses["critic"] = critic_loss(state.critic, real, fake)
        losses["critic"].backward()
        state.critic_optimizer.step()
        losses["adversarial"] = generator_adversarial_loss(state.critic, fake)
        total = total + settings.adversarial_weight * losses["adversarial"]
    state.optimizer.zero_grad()
    total.backward()
    state.optimizer.step()
    return {name: float(value.detach()) for name, value in losses.items()}


def train(model: MattingNet, samples: list[MattingSample], settings: TrainSettings, work: Path, tag: str,
          on_step: Callable[[int, dict[str, float]], None] | None = None) -> tuple[MattingNet, list[tuple[int, dict]], int]:
    """Train for ``settings.steps`` steps, checkpointing to ``work``; resume from a checkpoint there
    made with the same ``tag`` (params and data fingerprint). Returns the model, the loss history
    and the step it resumed from (0 for a fresh run)."""
    torch.manual_seed(settings.seed)
    state = new_state(model, settings)
    resume_path = work / "train_state.pt"
    resumed = 0
    if resume_path.is_file():
        payload = checkpoint.load(resume_path)
        if payload.get("fingerprint") == tag:
            _restore(state, payload)
            resumed = state.step
    model.train()
    with tqdm(total=settings.steps, initial=state.step, desc="train matting", unit="step") as progress:
        while state.step < settings.steps:
            losses = train_step(state, samples, settings)
            state.step += 1
            state.history.append((state.step, losses))
            progress.update(1)
            progress.set_postfix(loss=f"{losses['total']:.4f}")
            if state.step % settings.checkpoint_every == 0 or state.step == settings.steps:
                checkpoint.save(resume_path, _state_payload(state, tag))
            if on_step is not None:
                on_step(state.step, losses)
    model.eval()
    return model, state.history, resumed
