"""CUDA computes what the CPU computes: one training step of every training stage of every
profile, built as the stage builds it, from the same weights on the same batch."""

from __future__ import annotations

import pytest
import torch

from pipeline.config import PROFILES, load_params
from pipeline.training import Trainer, TrainSettings
from pipeline.training_cases import stage_cases
from tests.conftest import ROOT

BATCH, CROP = 2, 64  # small enough for a CPU; every profile's nets take 64 px (their divisors are at most 64)
LOSS_TOLERANCE = 1e-4  # relative
GRADIENT_TOLERANCE = 3e-3  # relative, over each net's whole gradient


def one_step(params, device: str) -> dict[str, tuple[dict[str, float], dict[str, torch.Tensor]]]:
    """Per stage: the step's losses and each net's gradient (all its parameters, flattened)."""
    results = {}
    for case in stage_cases(params, crop=CROP, batch=BATCH, seed=0):
        settings = TrainSettings(steps=1, batch=BATCH, checkpoint_every=1, seed=0, name=case.name, precision="float32")
        trainer = Trainer(case.modules, case.optimizers, settings, device)
        losses = case.step(trainer, trainer.place(case.batch))
        gradients = {name: torch.cat([p.grad.detach().flatten().cpu() for p in net.parameters() if p.grad is not None])
                     for name, net in case.modules.items()}
        results[case.name] = losses, gradients
    return results


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the CPU/GPU agreement needs one")
@pytest.mark.parametrize("profile", [p for p in PROFILES if p != "tiny"])
def test_every_training_step_computes_on_cuda_what_it_computes_on_the_cpu(profile, monkeypatch):
    """In float32 with TF32 off, cuDNN and cuBLAS differ from the CPU's kernels only in the order
    of their sums. Measured on one H100 (torch 2.11, cuDNN 9): losses within 3e-5 relative, each
    net's gradient within 6.3e-4 of its norm (the default matting net; the others 1e-6 to 1.4e-4).
    Tolerances 1e-4 and 3e-3 leave room for other GPUs' kernel choices; a net or a constant left
    on the wrong device, or a different random draw, moves them by orders of magnitude."""
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    params = load_params(ROOT / "params.yaml", profile=profile)
    cpu, cuda = one_step(params, "cpu"), one_step(params, "cuda")
    for stage, (losses, gradients) in cpu.items():
        cuda_losses, cuda_gradients = cuda[stage]
        for key, value in losses.items():
            error = abs(cuda_losses[key] - value) / max(abs(value), 1e-8)
            print(f"{profile} {stage} loss {key}: {value:.6g}, relative difference {error:.2e}")
            assert error < LOSS_TOLERANCE, (stage, key, value, cuda_losses[key])
        for net, gradient in gradients.items():
            error = float((cuda_gradients[net] - gradient).norm() / gradient.norm())
            print(f"{profile} {stage} gradient of {net}: relative difference {error:.2e}")
            assert error < GRADIENT_TOLERANCE, (stage, net, error)
