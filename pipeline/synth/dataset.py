"""Write the synthetic light stage in the raw dataset layout (``pipeline.io.datasets``).

Every subject, map and face image draws from its own seeded generator, so the
files are byte-identical for the same params whatever the number of workers.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline.camera.eg3d import RADIUS, camera_label, orbit_camera, pixel_size
from pipeline.io.arrays import load_array, save_array
from pipeline.io.datasets import FACE_CAMERAS, LIGHTS_TABLE
from pipeline.io.manifest import MANIFEST, write_table
from pipeline.light.sphere import LightSet, uniform_light_set
from pipeline.synth.faces import FaceSpec, render_face_batch
from pipeline.synth.hdri import procedural_sky
from pipeline.synth.landmarks import landmarks_2d
from pipeline.synth.render import render_view
from pipeline.synth.subject import sample_subject
from pipeline.seeds import held_out, rng_for

# The light stage's camera stands further back than EG3D's (whose frame is FFHQ's face crop), so
# that its views hold head, neck and the top of the shoulders, as Total Relighting's portraits do.
LIGHTSTAGE_RADIUS = 1.6 * RADIUS

VIEW_ARRAYS = ("olat", "alpha", "foreground", "normals", "albedo", "depth", "uv", "specular", "labels")


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
    faces: int
    face_resolution: int
    face_supersample: int
    face_lights: int
    test_face_fraction: float
    max_facet_px: float
    workers: int

    @property
    def face_spec(self) -> FaceSpec:
        return FaceSpec(seed=self.seed, resolution=self.face_resolution, supersample=self.face_supersample,
                        lights=self.face_lights, test_fraction=self.test_face_fraction,
                        max_facet_px=self.max_facet_px)


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


def _subject_rows(directory: Path, spec: SynthSpec, index: int, split: str) -> list[dict]:
    """Render and write every view of one subject; return its manifest rows."""
    lights = uniform_light_set(spec.lights)
    subject = sample_subject(rng_for(spec.seed, "subject", index), pixel=pixel_size(LIGHTSTAGE_RADIUS, spec.resolution),
                             max_facet_px=spec.max_facet_px)
    rows = []
    for view, yaw in enumerate(view_yaws(spec.views, spec.max_yaw_deg)):
        camera = camera_label(orbit_camera(yaw, 0.0, LIGHTSTAGE_RADIUS))
        render = render_view(subject, camera, lights.directions, lights.solid_angles, spec.resolution, spec.supersample)
        name = f"s{index:04d}/v{view:02d}"
        paths = {}
        for field in VIEW_ARRAYS:
            paths[field] = f"{name}/{field}.npy"
            save_array(directory / paths[field], getattr(render, field), dtype=np.uint8 if field == "labels" else np.float16)
        xy, visible = landmarks_2d(subject, camera, spec.resolution)
        rows.append({
            "subject": f"s{index:04d}", "view": view, "split": split,
            "height": spec.resolution, "width": spec.resolution, "lights": spec.lights,
            "camera": camera.tolist(), "landmarks_2d": xy.reshape(-1).tolist(),
            "landmarks_visible": visible.tolist(), "landmarks_3d": subject.landmarks.reshape(-1).tolist(), **paths,
        })
    return rows


def _parallel(function, jobs: list[tuple], workers: int, desc: str, unit: str) -> list:
    """Run ``function(*job)`` for each job, in worker processes when ``workers`` > 1, in order."""
    if workers <= 1:
        return [function(*job) for job in tqdm(jobs, desc=desc, unit=unit)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(function, *job) for job in jobs]
        return [future.result() for future in tqdm(futures, desc=desc, unit=unit)]


def write_lightstage(directory: Path, spec: SynthSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Render every subject from every view under every light; return the manifest and lights table."""
    light_table = write_lights(directory, uniform_light_set(spec.lights))
    test = held_out(spec.subjects, spec.test_subjects, spec.seed, "subject split")
    jobs = [(directory, spec, i, "test" if test[i] else "train") for i in range(spec.subjects)]
    rows = [row for rows in _parallel(_subject_rows, jobs, spec.workers, "synth subjects", "subject") for row in rows]
    manifest = pd.DataFrame(rows)
    write_table(directory / MANIFEST, manifest)
    return manifest, light_table


def write_hdris(directory: Path, spec: SynthSpec) -> pd.DataFrame:
    """Generate the procedural HDR maps with a fixed test split; return the manifest."""
    test = held_out(spec.hdris, spec.test_hdris, spec.seed, "hdri split")
    rows = []
    for index in tqdm(range(spec.hdris), desc="synth hdris", unit="map"):
        env = procedural_sky(rng_for(spec.seed, "hdri", index), spec.hdri_height)
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


def write_faces(directory: Path, truth_directory: Path, hdri_directory: Path, hdris: pd.DataFrame,
                spec: SynthSpec, batch: int = 50) -> pd.DataFrame:
    """The face set: single images of random subjects at FFHQ-like poses under random training
    maps. Cameras go to ``truth_directory`` alone, for evaluation; return the face manifest."""
    train = hdris[hdris["split"] == "train"]
    maps = {row.hdri: np.asarray(load_array(hdri_directory / row.path), dtype=np.float32) for row in train.itertuples()}
    jobs = [(directory, asdict(spec.face_spec), maps, range(start, min(start + batch, spec.faces)))
            for start in range(0, spec.faces, batch)]
    results = _parallel(render_face_batch, jobs, spec.workers, "synth faces", "batch")
    rows = [row for rows, _ in results for row in rows]
    cameras = [camera for _, cameras in results for camera in cameras]
    manifest = pd.DataFrame(rows)
    write_table(directory / MANIFEST, manifest)
    write_table(truth_directory / FACE_CAMERAS, pd.DataFrame(cameras))
    return manifest
