"""Self-describing checkpoints: one format for models and for resumable training state.

A model file holds the weights, the name of the model's config class and that
config as plain nested data (configs may nest: a Shading Net's holds a Specular
Net's and a Neural Renderer's), the resolved params and the hashes of the data
it was trained on, so a model loads without the code's defaults. Every file is
read with ``torch.load(weights_only=True)``: tensors, numbers, strings, lists
and dicts only. A file that would run code when unpickled is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import pickle
import typing
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
    """A checkpoint's payload, on the CPU. Only plain data is unpickled (``weights_only``)."""
    if not path.is_file():
        raise DataError(f"{path}: checkpoint not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # weights_only refuses any global it does not know
        raise DataError(f"{path}: refused: unpickling it would run code or build objects a checkpoint "
                        f"never holds ({str(err).splitlines()[0]})") from err
    except Exception as err:  # torch raises several types for truncated or foreign files
        raise DataError(f"{path}: not a readable checkpoint ({err})") from err
    if not isinstance(payload, dict):
        raise DataError(f"{path}: not a lightstage checkpoint (holds a {type(payload).__name__})")
    return payload


def config_to_data(config: Any) -> Any:
    """A (nested) config dataclass as plain dicts, lists and scalars."""
    if dataclasses.is_dataclass(config):
        return {f.name: config_to_data(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, (tuple, list)):
        return [config_to_data(v) for v in config]
    return config


def config_from_data(config_class: type, data: dict[str, Any]) -> Any:
    """The inverse of ``config_to_data``: nested configs are rebuilt by their field types."""
    hints = typing.get_type_hints(config_class)
    values = {}
    for f in dataclasses.fields(config_class):
        if f.name not in data:
            continue  # a field added since the file was written keeps its default
        kind, value = hints[f.name], data[f.name]
        if dataclasses.is_dataclass(kind):
            value = config_from_data(kind, value)
        elif isinstance(value, list):
            value = tuple(value)
        values[f.name] = value
    unknown = set(data) - {f.name for f in dataclasses.fields(config_class)}
    if unknown:
        raise DataError(f"{config_class.__name__}: unknown config fields {sorted(unknown)}")
    return config_class(**values)


def qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def model_payload(model: torch.nn.Module, params: dict, data_hashes: dict[str, str], **extra) -> dict[str, Any]:
    return {
        "config_class": qualified_name(type(model.config)), "config": config_to_data(model.config),
        "state_dict": model.state_dict(), "params": params, "data_hashes": data_hashes, **extra,
    }


def load_model(path: Path, config_class: type, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Build a model from its file's own config (``config_class(...).build()``, not the code's
    defaults), load its weights, put it in eval mode on ``device``; return it and the payload."""
    payload = load(path)
    if payload.get("config_class") != qualified_name(config_class):
        raise DataError(f"{path}: holds a {payload.get('config_class')}, not a {qualified_name(config_class)}")
    model = config_from_data(config_class, payload["config"]).build()
    model.load_state_dict(payload["state_dict"])
    return model.to(device).eval(), payload
