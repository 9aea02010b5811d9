"""Data lineage: what a stage read and wrote, hashed exactly as DVC hashes it.

A file's hash is the md5 of its bytes; a directory's is the md5 of the JSON list
``[{"md5": ..., "relpath": ...}]`` of its files sorted by path, plus ``.dir``
(dvc-data's ``Tree.as_bytes``). A test checks these against dvc.lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline import ConfigError

CHUNK = 1 << 20
# Kept in step with .dvcignore: bytecode differs between machines and must not
# make a fresh clone's stages look stale.
IGNORED_DIRS = (".dvc", ".git", "__pycache__")
IGNORED_SUFFIXES = (".pyc",)


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def dvc_md5(path: str | Path) -> str:
    """DVC's md5 of a file or directory ('' if it does not exist)."""
    path = Path(path)
    if path.is_file():
        return file_md5(path)
    if not path.is_dir():
        return ""
    entries = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in IGNORED_DIRS]
        for name in files:
            if name.endswith(IGNORED_SUFFIXES):
                continue
            full = Path(folder) / name
            entries.append({"md5": file_md5(full), "relpath": full.relative_to(path).as_posix()})
    entries.sort(key=lambda entry: entry["relpath"])
    return hashlib.md5(json.dumps(entries, sort_keys=True).encode("utf-8")).hexdigest() + ".dir"


@dataclass(frozen=True)
class StageGraphEntry:
    """A stage as dvc.yaml declares it (read directly: stages need no DVC import)."""

    name: str
    cmd: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]
    params: tuple[str, ...]
    metrics: tuple[str, ...]
    plots: tuple[str, ...] = ()


def _paths(items: list) -> tuple[str, ...]:
    """dvc.yaml lists entries as strings or single-key mappings (path: options)."""
    return tuple(item if isinstance(item, str) else next(iter(item)) for item in items or [])


def _resolve(text: str, params: dict) -> str:
    """DVC's templating: ``${section.key}`` from params.yaml."""
    def value(match: re.Match) -> str:
        node = params
        for part in match.group(1).split("."):
            if not isinstance(node, dict) or part not in node:
                raise ConfigError(f"dvc.yaml: ${{{match.group(1)}}} is not a key of params.yaml")
            node = node[part]
        return str(node)

    return re.sub(r"\$\{\s*([\w.]+)\s*\}", value, text)


def read_dvc_stage(name: str, dvc_yaml: str | Path = "dvc.yaml", resolve: bool = True) -> StageGraphEntry:
    """A stage of dvc.yaml, with ``${...}`` templates filled from the params.yaml beside it."""
    dvc_yaml = Path(dvc_yaml)
    text = dvc_yaml.read_text()
    if resolve:
        text = _resolve(text, yaml.safe_load((dvc_yaml.parent / "params.yaml").read_text()) or {})
    stages = (yaml.safe_load(text) or {}).get("stages", {})
    if name not in stages:
        raise ConfigError(f"{dvc_yaml}: no stage named {name!r}")
    stage = stages[name]
    params = []
    for item in stage.get("params") or []:
        params.extend([item] if isinstance(item, str) else [k for entry in item.values() for k in entry])
    return StageGraphEntry(
        name=name, cmd=stage["cmd"], deps=_paths(stage.get("deps")), outs=_paths(stage.get("outs")),
        params=tuple(params), metrics=_paths(stage.get("metrics")), plots=_paths(stage.get("plots")),
    )


def stage_argv(name: str, dvc_yaml: str | Path, params: Path, work: Path, moved: Sequence[str]) -> list[str]:
    """A dvc.yaml stage's command as arguments for this interpreter, reading ``params`` and writing
    under ``work`` every path that starts with one of ``moved`` (say ``data/models/``): a rerun
    of the stage beside the repository's own outputs (benchmarks)."""
    words = read_dvc_stage(name, dvc_yaml).cmd.split()
    words = [str(work / w) if w.startswith(tuple(moved)) else w for w in words]
    return [sys.executable if w == "python" else w for w in words] + ["--params", str(params), "--no-track"]


def git_commit(root: str | Path = ".") -> str:
    """HEAD's hash, with ``-dirty`` when tracked files differ from it; 'unknown' outside git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")
