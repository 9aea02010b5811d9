"""Atomic outputs: write beside the target, then rename into place.

A stage that fails or is interrupted leaves the previous outputs untouched,
and a reader never sees a half-written file or directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _sibling(path: Path, tag: str) -> Path:
    return path.parent / f".{path.name}.{tag}-{os.getpid()}"


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "wb") -> Iterator:
    """Open a temporary file beside ``path``; on success rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``, with its suffix (for writers that take a file name and
    choose the format by it, as OpenCV's video writer); on success renamed over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dirs(finals: dict[str, Path]) -> Iterator[dict[str, Path]]:
    """Yield empty temporary directories, one per final path; swap them in on success.

    All directories are written before any is swapped, so a failure in the body
    leaves every previous output intact. The swap renames the old directory
    aside, renames the new one in, and only then deletes the old one.
    """
    temps = {}
    for key, final in finals.items():
        final = Path(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        for stale in final.parent.glob(f".{final.name}.*.tmp"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        temps[key] = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    try:
        yield temps
    except BaseException:
        for tmp in temps.values():
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    for key, final in finals.items():
        replace_dir(temps[key], Path(final))


def replace_dir(src: Path, dst: Path) -> None:
    """Move directory ``src`` to ``dst``, replacing what was there (or a file)."""
    old = None
    if dst.exists() or dst.is_symlink():
        old = _sibling(dst, "old")
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink()
