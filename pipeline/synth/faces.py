"""The face set: single photographs of random subjects at FFHQ-like head poses.

Each image is a new subject under a random (rotated) training HDR map,
composited over a background (``backdrop``: the map as the camera sees it, that
view out of focus, or indoor clutter), exposed for the face, written as
sRGB PNG with its semantic label map and 2D landmarks. The true cameras are
returned apart, for evaluation only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.camera.eg3d import RADIUS, camera_label, orbit_camera, pixel_size
from pipeline.io.arrays import save_png, srgb_encode
from pipeline.light import equirect
from pipeline.light.relight import light_weights
from pipeline.light.sphere import uniform_light_set
from pipeline.light.tonemap import LUMINANCE, composite, subject_exposure
from pipeline.synth import backdrop
from pipeline.synth.landmarks import landmarks_2d
from pipeline.synth.render import label_map, pool, trace, weighted_image
from pipeline.seeds import rng_for
from pipeline.synth.subject import sample_subject

# FFHQ-like pose spread (radians): mostly frontal, yaw spread of tens of degrees, smaller pitch.
YAW_STD, YAW_MAX = np.radians(20.0), np.radians(70.0)
PITCH_STD, PITCH_MAX = np.radians(7.0), np.radians(25.0)
FACE_MEDIAN = 0.25  # linear luminance the exposure gives the median foreground pixel


@dataclass(frozen=True)
class FaceSpec:
    seed: int
    resolution: int
    supersample: int
    lights: int
    test_fraction: float
    max_facet_px: float


def sample_pose(rng: np.random.Generator) -> tuple[float, float]:
    yaw = float(np.clip(rng.normal(0.0, YAW_STD), -YAW_MAX, YAW_MAX))
    pitch = float(np.clip(rng.normal(0.0, PITCH_STD), -PITCH_MAX, PITCH_MAX))
    return yaw, pitch


def render_face(spec: FaceSpec, index: int, maps: dict[str, np.ndarray]):
    """(sRGB image (R, R, 3) uint8, labels (R, R) uint8, row metadata, true camera metadata)."""
    rng = rng_for(spec.seed, "face", index)
    subject = sample_subject(rng, pixel=pixel_size(RADIUS, spec.resolution), max_facet_px=spec.max_facet_px)
    yaw, pitch = sample_pose(rng)
    camera = camera_label(orbit_camera(yaw, pitch))
    name = sorted(maps)[rng.integers(len(maps))]
    shift = int(rng.integers(maps[name].shape[1]))
    env = equirect.rotate(maps[name], shift)
    lights = uniform_light_set(spec.lights)
    samples = trace(subject, camera, spec.resolution, spec.supersample)
    foreground = weighted_image(subject, samples, lights.directions, light_weights(env, lights.directions))
    alpha = pool(samples, samples.coverage[:, None])
    background = pool(samples, equirect.sample(env, samples.rays))
    kind = backdrop.choose_kind(rng)
    if kind == "blurred_map":
        background = backdrop.blurred(background, rng)
    elif kind == "clutter":
        brightness = float(np.mean(env @ LUMINANCE)) * rng.uniform(0.08, 0.4)  # walls of albedo ~0.1-0.4
        background = backdrop.clutter(rng, spec.resolution, brightness)
    exposure = subject_exposure(foreground, alpha, FACE_MEDIAN)
    xy, visible = landmarks_2d(subject, camera, spec.resolution)
    image_id = f"img{index:08d}"
    row = {
        "image": image_id, "path": f"images/{image_id}.png", "labels": f"labels/{image_id}.png",
        "split": "test" if rng.uniform() < spec.test_fraction else "train",
        "height": spec.resolution, "width": spec.resolution, "hdri": name,
        "hdri_rotation": 2 * np.pi * shift / env.shape[1], "exposure": exposure, "background": kind,
        "landmarks_2d": xy.reshape(-1).tolist(), "landmarks_visible": visible.tolist(),
    }
    truth = {"image": image_id, "camera": camera.tolist(), "yaw": yaw, "pitch": pitch}
    return srgb_encode(composite(foreground, alpha, background) * exposure), label_map(samples), row, truth


def render_face_batch(directory: Path, spec: dict, maps: dict[str, np.ndarray], indices: range):
    """Render and write faces ``indices``; return their manifest rows and true cameras."""
    spec = FaceSpec(**spec)
    rows, cameras = [], []
    for index in indices:
        image, labels, row, truth = render_face(spec, index, maps)
        save_png(directory / row["path"], image)
        save_png(directory / row["labels"], labels)
        rows.append(row)
        cameras.append(truth)
    return rows, cameras
