"""What a radiance field answers, for any renderer: given points, view directions and a
latent, a raw density and features at each point. EG3D's tri-plane decoder and pi-GAN's
SIREN both implement ``Field``; the renderer needs nothing else from them."""

from __future__ import annotations

from typing import NamedTuple, Protocol

import torch


class FieldOutput(NamedTuple):
    raw_density: torch.Tensor  # (N, M, 1) before the density activation (``march.density_activation``)
    features: torch.Tensor  # (N, M, C); for colour fields the first three channels are RGB


class Field(Protocol):
    def __call__(self, points: torch.Tensor, directions: torch.Tensor, latent: torch.Tensor) -> FieldOutput:
        """points (N, M, 3), unit directions (N, M, 3), latent (the field's own conditioning: EG3D's
        planes (N, 3, C, H, W), pi-GAN's frequencies and phases)."""
        ...
