"""Every 3D-aware generator the pipeline trains, by its config class: what ``evaluate_gan`` and
``lightstage sample`` load from a model file without being told which kind it holds. A file
naming any other class is refused (models are built from known classes only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from pipeline import DataError
from pipeline.gan3d.fenerf import FenerfConfig
from pipeline.gan3d.pigan import PiganConfig
from pipeline.models import checkpoint
from pipeline.models.eg3d import EG3DConfig

CONFIGS = {checkpoint.qualified_name(c): c for c in (EG3DConfig, PiganConfig, FenerfConfig)}


def load_generator(path: Path, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """The generator in ``path`` (EG3D's, pi-GAN's or FENeRF's), in eval mode on ``device``, and its payload."""
    kind = checkpoint.load(path).get("config_class")
    if kind not in CONFIGS:
        raise DataError(f"{path}: holds a {kind}, not a 3D-aware generator (known: {', '.join(sorted(CONFIGS))})")
    return checkpoint.load_model(path, CONFIGS[kind], device)
