"""Write the synthetic light stage in the raw dataset layout (``pipeline.io.datasets``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.io.arrays import save_array
from pipeline.io.datasets import LIGHTS_TABLE
from pipeline.io.manifest import MANIFEST, write_table
from pipeline.light.sphere import LightSet, uniform_light_set
from pipeline.synth.hdri import procedural_sky
from pipeline.synth.render import ViewRender, render_view
from pipeline.synth.subject import sample_subject


@dataclass(frozen=True)
class SynthSpec:
    """What to generate (the ``synth`` params section, as the library sees it)."""

    seed: int
    subjects: int
    test_subjects: int
    views: int
    resolution: int
    supersample: int
    lights: int
    max_yaw_deg: float
    hdris: int
    test_hdris: int
    hdri_height: int


def _rng(seed: int, *stream: int) -> np.random.Generator:
    """An independent generator per (seed, stream): adding subjects never reshuffles others."""
    return np.random.default_rng(np.random.SeedSequence([seed, *stream]))


def held_out(count: int, held: int, seed: int, stream: int) -> np.ndarray:
    """Boolean mask (count,) of the ``held`` items in the test split, fixed by seed."""
    mask = np.zeros(count, dtype=bool)
    mask[_rng(seed, stream).permutation(count)[:held]] = True
    return mask


def view_yaws(views: int, max_yaw_deg: float) -> np.ndarray:
    """Yaw angles (radians) of the views, spread evenly over +-max_yaw."""
    if views == 1:
        return np.zeros(1)
    return np.radians(np.linspace(-max_yaw_deg, max_yaw_deg, views))


def write_lights(directory: Path, lights: LightSet) -> pd.DataFrame:
    table = pd.DataFrame({
        "light": np.arange(len(lights)),
        "x": lights.directions[:, 0], "y": lights.directions[:, 1], "z": lights.directions[:, 2],
        "solid_angle": lights.solid_angles,
    })
    write_table(directory / LIGHTS_TABLE, table)
    return table


def _write_view(directory: Path, name: str, render: ViewRender) -> dict[str, str]:
    paths = {}
    for field in ("olat", "normals", "albedo", "alpha", "depth", "specular"):
        paths[field] = f"{name}/{field}.npy"
        save_array(directory / paths[field], getattr(render, field))
    return paths


def write_lightstage(directory: Path, spec: SynthSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Render every subject from every view under every light; return the manifest and lights table."""
    lights = uniform_light_set(spec.lights)
    light_table = write_lights(directory, lights)
    test = held_out(spec.subjects, spec.test_subjects, spec.seed, 0)
    rows = []
    for index in tqdm(range(spec.subjects), desc="synth subjects", unit="subject"):
        subject = sample_subject(_rng(spec.seed, 1, index))
        for view, yaw in enumerate(view_yaws(spec.views, spec.max_yaw_deg)):
            camera = camera_label(orbit_camera(yaw, 0.0))
            render = render_view(subject, camera, lights, spec.resolution, spec.supersample)
            name = f"s{index:04d}/v{view:02d}"
            rows.append({
                "subject": f"s{index:04d}", "view": view, "split": "test" if test[index] else "train",
                "height": spec.resolution, "width": spec.resolution, "lights": len(lights),
                "camera": camera.tolist(), **_write_view(directory, name, render),
            })
    manifest = pd.DataFrame(rows)
    write_table(directory / MANIFEST, manifest)
    return manifest, light_table


def write_hdris(directory: Path, spec: SynthSpec) -> pd.DataFrame:
    """Generate the procedural HDR maps with a fixed test split; return the manifest."""
    test = held_out(spec.hdris, spec.test_hdris, spec.seed, 2)
    rows = []
    for index in tqdm(range(spec.hdris), desc="synth hdris", unit="map"):
        env = procedural_sky(_rng(spec.seed, 3, index), spec.hdri_height)
        path = f"h{index:04d}.npy"
        save_array(directory / path, env)
        rows.append({
            "hdri": f"h{index:04d}", "split": "test" if test[index] else "train", "kind": "procedural",
            "height": env.shape[0], "width": env.shape[1], "path": path,
            "peak": float(env.max()), "median": float(np.median(env.mean(axis=-1))),
        })
    manifest = pd.DataFrame(rows)
    write_table(directory / MANIFEST, manifest)
    return manifest
