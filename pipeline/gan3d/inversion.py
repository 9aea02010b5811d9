"""Inversion: a frozen generator's latent fitted to one picture, then rendered from other cameras.

Every 3D-aware generator here answers two questions for it:

- ``mean_latent()``: where a fit starts, the latent averaged over z (EG3D: the tracked mean
  ``w_avg``, one w for every layer; pi-GAN: the mapping's frequencies and phase shifts averaged
  over many z, as pi-GAN's own inversion starts);
- ``render_latent(latent, cameras, resolution)``: pictures in [-1, 1] of that latent from
  ``cameras`` (N, 25), deterministic, without noise.

``invert`` freezes the generator and fits the latent's tensors by Adam to the mean squared error
against the target seen from its camera. Novel views of the fit are ``render_latent`` at other
cameras: how well they match the subject's true views is the inversion test of pi-GAN's
paper (and the comparison with EG3D's w) in ``evaluate_gan``.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import torch

Latent = tuple[torch.Tensor, ...]


class Invertible(Protocol):
    def mean_latent(self) -> Latent: ...

    def render_latent(self, latent: Latent, cameras: torch.Tensor, resolution: int) -> torch.Tensor: ...


class Inversion(NamedTuple):
    latent: Latent  # the fitted tensors, shaped as ``mean_latent``'s
    losses: list[float]  # the mean squared error at each step, in the [-1, 1] range


def invert(net: Invertible, target: torch.Tensor, camera: torch.Tensor, steps: int, rate: float,
           start: Latent | None = None) -> Inversion:
    """Fit ``target`` (1, 3, R, R) in [-1, 1] seen from ``camera`` (1, 25): the generator frozen, the
    latent optimised by Adam from ``start`` (default ``net.mean_latent()``) for ``steps`` steps."""
    latent = [t.detach().clone().requires_grad_(True) for t in (start or net.mean_latent())]
    optimiser = torch.optim.Adam(latent, lr=rate)
    frozen = [p.requires_grad for p in net.parameters()]
    net.requires_grad_(False)
    losses = []
    try:
        for _ in range(steps):
            loss = torch.mean((net.render_latent(tuple(latent), camera, target.shape[-1]) - target) ** 2)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
    finally:
        for parameter, flag in zip(net.parameters(), frozen):
            parameter.requires_grad_(flag)
    return Inversion(tuple(t.detach() for t in latent), losses)


def psnr(pictures: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio (N,) in dB of pictures against targets (N, 3, R, R), both in [-1, 1]
    (the error measured on [0, 1])."""
    error = torch.mean(((pictures.clamp(-1, 1) - targets) / 2) ** 2, dim=(1, 2, 3))
    return -10 * torch.log10(error.clamp_min(1e-12))
