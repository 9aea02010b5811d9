"""Shared fixtures: a throwaway copy of the repository, one real Prefect server per session, and a
small relit dataset (synth -> lightmaps -> relight cores) for the relighting and matting tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.schema.base import BaseParams
from pipeline.schema.lightmaps import LightmapsParams
from pipeline.schema.relight import RelightParams
from pipeline.stage import StageContext
from stages import lightmaps, relight

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool_env(**extra: str) -> dict[str, str]:
    """The environment stage commands run in: this interpreter's bin first, analytics off, and
    this checkout's code first: the ``lightstage`` script otherwise imports the package from
    wherever it was installed (an editable install may point at another checkout)."""
    python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONPATH": python_path,
           "DVC_NO_ANALYTICS": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("LIGHTSTAGE_PARENT_RUN_ID", None)
    env.update(extra)
    return env


def copy_repo(destination: Path, profile: str = "tiny") -> Path:
    """The working tree as git sees it (tracked and unignored files) plus its git history, on ``profile``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    _copy_git(destination)
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            target = destination / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    set_params(destination / "params.yaml", ("base", "profile"), profile)
    return destination


def _copy_git(destination: Path) -> None:
    """A .git for the copy, at the same HEAD. In a git worktree .git is a file pointing into
    another checkout's repository: clone that (sharing its objects) instead of copying."""
    if (ROOT / ".git").is_dir():
        shutil.copytree(ROOT / ".git", destination / ".git")
        return
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", "--shared", str(ROOT), str(destination)], check=True)
    subprocess.run(["git", "reset", "--quiet"], cwd=destination, check=True)  # the index, as HEAD; files come next


def set_params(path: Path, key: tuple[str, ...], value) -> None:
    params = yaml.safe_load(path.read_text())
    node = params
    for part in key[:-1]:
        node = node.setdefault(part, {})
    node[key[-1]] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=env or tool_env(), capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}")
    return done


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(tmp_path / "repo")


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory) -> str:
    """A real Prefect server on a free local port, started once (it can take 20-30 s here)."""
    from pipeline.flow import ensure_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = tmp_path_factory.mktemp("prefect-home")
    api = f"http://127.0.0.1:{port}/api"
    os.environ.update(PREFECT_HOME=str(home), PREFECT_API_URL=api, PREFECT_SERVER_ANALYTICS_ENABLED="false")
    server = ensure_server(api, home / "server.log", startup_timeout=180)
    yield api
    if server is not None:
        server.terminate()
        server.wait(timeout=30)


def small_spec(**overrides):
    """A synth spec small enough for unit tests (seconds)."""
    from pipeline.synth.dataset import SynthSpec

    values = dict(seed=3, subjects=3, test_subjects=1, views=2, resolution=24, supersample=2, lights=8,
                  max_yaw_deg=25.0, hdris=3, test_hdris=1, hdri_height=8, faces=12, face_resolution=24,
                  face_supersample=1, face_lights=8, test_face_fraction=0.3, max_facet_px=0.75,
                  workers=1)
    values.update(overrides)
    return SynthSpec(**values)


def write_dataset(root: Path, spec) -> Path:
    """Every raw output of ``synth`` for ``spec`` under ``root``."""
    from pipeline.synth.dataset import write_faces, write_hdris, write_lightstage

    write_lightstage(root / "lightstage", spec)
    hdris = write_hdris(root / "hdri", spec)
    write_faces(root / "faces", root / "faces_truth", root / "hdri", hdris, spec)
    return root


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("raw"), small_spec())


BASE = BaseParams(seed=0, profile="tiny", source="synthetic")  # for stage cores run by tests


@pytest.fixture(scope="session")
def relit_dataset(small_dataset, tmp_path_factory):
    root = tmp_path_factory.mktemp("relit")
    (root / "none").mkdir()
    maps = LightmapsParams(env_height=16, lightmap_height=8, real_hdris=str(root / "none"), procedural=True, real_test_fraction=0.5,
                           max_negative_share=1e-5)
    lightmaps.run(StageContext(BASE, maps), {"hdri": small_dataset / "hdri", "real_hdris": root / "none"},
                  {"lightmaps": root / "lightmaps"})
    relight.run(StageContext(BASE, RelightParams(pairs_per_view=1, rotate=True, exposure_median=0.25)),
                {"lightstage": small_dataset / "lightstage", "lightmaps": root / "lightmaps"}, {"relight": root / "relight"})
    return {"relight": root / "relight", "lightstage": small_dataset / "lightstage", "lightmaps": root / "lightmaps"}
