"""Typed params: the loader. Every knob in params.yaml, validated before any work.

params.yaml has a ``base`` section (seed, profile, data source), one section per
stage, a ``flow`` section for the Prefect flow, and a ``profiles`` section: the
one place where a profile (``tiny``, ``default``, ``paper``) overrides section
values. Overrides merge deeply: ``profiles.tiny.train_shading: {model: {renderer:
{widths: [4, 8]}}}`` changes that one key and keeps the rest of ``model``.

Each section's schema is a module of its own, ``pipeline/schema/<section>.py``,
whose ``SCHEMA`` is the section's class. A stage imports only the loader, the
base schema and its own section's schema, so DVC reruns it only when those
change: adding a section (its module and its keys) leaves every other stage
fresh. Which sections exist is read from the listing of pipeline/schema/, not
from a registry every stage would import. Modules there without ``SCHEMA`` hold
what several sections share (``relighting.py``).

Any unknown key, wrong type or out-of-range value raises ``ConfigError`` naming
the file and the dotted key, e.g. ``params.yaml: profiles.tiny.synth.lights: ...``.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline import ConfigError

if TYPE_CHECKING:
    from pipeline.schema.base import BaseParams

Profile = Literal["tiny", "default", "paper"]
PROFILES: tuple[str, ...] = get_args(Profile)
BASE = "base"
PROFILES_KEY = "profiles"
SCHEMA_PACKAGE = "pipeline.schema"


class Section(BaseModel):
    """A params section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


@dataclass(frozen=True)
class Params:
    """Validated params with the active profile applied: ``base`` and the sections loaded."""

    path: Path
    base: BaseParams
    sections: dict[str, Section]

    def section(self, name: str) -> Section:
        if name not in self.sections:
            raise ConfigError(f"{self.path}: {name}: section not loaded (loaded: {', '.join(sorted(self.sections))})")
        return self.sections[name]

    def stage_keys(self, name: str) -> list[str]:
        """The params.yaml keys a stage reading section ``name`` depends on (for dvc.yaml)."""
        return [BASE, name] + [f"{PROFILES_KEY}.{p}.{name}" for p in PROFILES]


def schema_modules() -> list[str]:
    """The module names in pipeline/schema/: ``base``, every section, and shared helpers.
    Found by listing the package's folder, without importing them."""
    folders = importlib.import_module(SCHEMA_PACKAGE).__path__
    return sorted(m.name for m in pkgutil.iter_modules(folders) if not m.ispkg and not m.name.startswith("_"))


def schema_of(name: str) -> type[Section] | None:
    """The ``SCHEMA`` class of ``pipeline/schema/<name>.py``; None for a module of shared helpers."""
    return getattr(importlib.import_module(f"{SCHEMA_PACKAGE}.{name}"), "SCHEMA", None)


def section_name(schema: type[Section]) -> str:
    """A section's name is its schema module's: ``pipeline.schema.train_matting`` -> ``train_matting``."""
    package, _, name = schema.__module__.rpartition(".")
    if package != SCHEMA_PACKAGE:
        raise TypeError(f"{schema.__qualname__} is defined in {schema.__module__}, not in a {SCHEMA_PACKAGE} module")
    return name


def load_params(path: str | Path = "params.yaml", profile: str | None = None) -> Params:
    """Read and validate the whole params file, every section of every profile; resolve the
    sections for ``profile`` (default: ``base.profile``). Raise ``ConfigError`` on the first problem."""
    path = Path(path)
    raw = _read_yaml(path)
    schemas = {name: schema for name in schema_modules() if name != BASE and (schema := schema_of(name)) is not None}
    _check_names(path, raw, set(schemas))
    base = _load_base(path, raw, profile)
    sections = {name: _resolve(path, raw, name, schema, base.profile) for name, schema in schemas.items()}
    return Params(path=path, base=base, sections=sections)


def load_section(path: str | Path, schema: type[Section], profile: str | None = None) -> Params:
    """Read params for one stage: validate ``base`` and the section ``schema`` describes (every
    profile's overrides of it), and check the other names against pipeline/schema/'s listing
    without importing their schemas. Raise ``ConfigError`` on the first problem."""
    path = Path(path)
    raw = _read_yaml(path)
    _check_names(path, raw, set(schema_modules()) - {BASE})
    base = _load_base(path, raw, profile)
    name = section_name(schema)
    return Params(path=path, base=base, sections={name: _resolve(path, raw, name, schema, base.profile)})


def _check_names(path: Path, raw: dict[str, Any], sections: set[str]) -> None:
    """Every top-level key and every ``profiles.<profile>.<section>`` names a known thing."""
    known = {BASE, PROFILES_KEY, *sections}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{path}: {key}: unknown section (known: {', '.join(sorted(known))})")
    profiles = raw.get(PROFILES_KEY) or {}
    _check_mapping(path, profiles, PROFILES_KEY)
    for profile, overrides in profiles.items():
        if profile not in PROFILES:
            raise ConfigError(f"{path}: {PROFILES_KEY}.{profile}: unknown profile (known: {', '.join(PROFILES)})")
        _check_mapping(path, overrides or {}, f"{PROFILES_KEY}.{profile}")
        for name in overrides or {}:
            if name not in sections:
                raise ConfigError(f"{path}: {PROFILES_KEY}.{profile}.{name}: unknown section")


def _load_base(path: Path, raw: dict[str, Any], profile: str | None) -> BaseParams:
    base = _validate(path, schema_of(BASE), raw.get(BASE), BASE, {})
    if profile is None:
        return base
    if profile not in PROFILES:
        raise ConfigError(f"{path}: profile {profile!r} asked for, but the known ones are {', '.join(PROFILES)}")
    return base.model_copy(update={"profile": profile})


def _resolve(path: Path, raw: dict[str, Any], name: str, schema: type[Section], active: str) -> Section:
    """Section ``name`` with ``active``'s overrides merged in."""
    profiles = raw.get(PROFILES_KEY) or {}
    resolved = {}
    # Every profile must validate, not only the active one: a typo in `paper`
    # should fail on a laptop, not on the GPU machine a week later.
    for profile in PROFILES:
        overrides = (profiles.get(profile) or {}).get(name) or {}
        resolved[profile] = _validate(path, schema, raw.get(name), name, overrides, profile)
    return resolved[active]


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from err
    _check_mapping(path, raw, "(top level)")
    return raw


def _check_mapping(path: Path, value: Any, key: str) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {key}: expected a mapping, got {type(value).__name__}")


def deep_merge(values: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``values`` with ``overrides`` applied: mappings merge key by key, anything else replaces."""
    merged = dict(values)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _validate(
    path: Path, schema: type[Section], values: Any, name: str, overrides: Any, profile: str | None = None
) -> Section:
    if values is None:
        raise ConfigError(f"{path}: {name}: section missing")
    _check_mapping(path, values, name)
    _check_mapping(path, overrides, f"{PROFILES_KEY}.{profile}.{name}")
    try:
        return schema.model_validate(deep_merge(values, overrides))
    except ValidationError as err:
        loc = tuple(err.errors()[0]["loc"])
        blame = _overridden(overrides, loc) if loc else _cross_field_override(schema, values, overrides)
        raise ConfigError(_problem(path, err, f"{PROFILES_KEY}.{profile}.{name}" if blame else name)) from err


def _cross_field_override(schema: type[Section], values: dict, overrides: dict) -> bool:
    """Whether a cross-field problem (no single key) appears only with the profile's overrides."""
    if not overrides:
        return False
    try:
        schema.model_validate(values)
    except ValidationError:
        return False
    return True


def _problem(path: Path, err: ValidationError, where: str) -> str:
    """The first validation problem as ``file: dotted.key: message (got value)``."""
    problem = err.errors()[0]
    field = ".".join(str(part) for part in problem["loc"])
    key = f"{where}.{field}" if field else where
    given = f" (got {problem['input']!r})" if field and "input" in problem else ""
    return f"{path}: {key}: {problem['msg']}{given}"


def _overridden(overrides: dict, loc: tuple) -> bool:
    """Whether the value at ``loc`` comes from ``overrides`` (a deep path into the merged section)."""
    node: Any = overrides
    for part in loc:
        if not isinstance(node, dict):
            return True  # the override replaced this whole value (a list, say)
        if part not in node:
            return False
        node = node[part]
    return True


def flatten(section: BaseModel, prefix: str) -> dict[str, Any]:
    """``{"synth.subjects": 8, "train_shading.model.renderer.widths": [...], ...}``: a section
    as flat key-value pairs (for MLflow params and checkpoints), nested mappings joined by dots."""
    return _flat(section.model_dump(mode="json"), prefix)


def _flat(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}.{key}"))
        else:
            flat[f"{prefix}.{key}"] = value
    return flat
