"""Self-describing checkpoints and resumable training state.

A model file holds the weights, the model's class name and architecture config,
the resolved params and the hashes of the data it was trained on, so it loads
without the code's defaults. A training-state file adds the optimiser, the
random-number states and the step, and a fingerprint of params and data: a
run resumes only a state made with the same ones.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import torch

from pipeline import DataError
from pipeline.io.atomic import atomic_file


def fingerprint(params: dict, data_hashes: dict[str, str]) -> str:
    return hashlib.md5(json.dumps({"params": params, "data": data_hashes}, sort_keys=True, default=str).encode()).hexdigest()


def save(path: Path, payload: dict[str, Any]) -> None:
    """Serialise in memory, then write atomically: never a half-written file, and the bytes do
    not depend on a temporary name (torch names the archive's folder after the file)."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with atomic_file(path) as handle:
        handle.write(buffer.getvalue())


def load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DataError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises several types for truncated or foreign files
        raise DataError(f"{path}: not a readable checkpoint ({err})") from err


def model_payload(model: torch.nn.Module, params: dict, data_hashes: dict[str, str], **extra) -> dict[str, Any]:
    return {
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
        "config": model.config.to_dict(), "state_dict": model.state_dict(),
        "params": params, "data_hashes": data_hashes, **extra,
    }


def load_model(path: Path, model_class: type, config_class: type) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild a model from its file's own config (not the code's defaults); return it and the payload."""
    payload = load(path)
    expected = f"{model_class.__module__}.{model_class.__qualname__}"
    if payload.get("model_class") != expected:
        raise DataError(f"{path}: holds a {payload.get('model_class')}, not a {expected}")
    config = config_class(**{k: tuple(v) if isinstance(v, list) else v for k, v in payload["config"].items()})
    model = model_class(config)
    model.load_state_dict(payload["state_dict"])
    return model.eval(), payload
