"""Held-out subjects turning their heads: the test set of inversion for novel views.

Each subject is a new random person (drawn from its own seed stream, so none is in the face set)
seen at several yaws under one HDR map, as the face set frames its photographs: EG3D's camera at
its radius looking at FFHQ's alignment centre, so a picture at the face set's resolution brought
down to the GANs' is already in the aligned frame, and the true camera of each view is exactly its
label. One exposure, set on the first view, serves all of a subject's views, and the background is
the map as each camera sees it: the views agree with each other as photographs of one scene would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.camera.eg3d import RADIUS, camera_label, orbit_camera, pixel_size
from pipeline.io.arrays import srgb_encode
from pipeline.light import equirect
from pipeline.light.relight import light_weights
from pipeline.light.sphere import uniform_light_set
from pipeline.light.tonemap import composite, subject_exposure
from pipeline.seeds import rng_for
from pipeline.synth.render import pool, trace, weighted_image
from pipeline.synth.subject import sample_subject

EXPOSURE = 0.25  # linear luminance of the median subject pixel in the first view (the face set's)


@dataclass(frozen=True)
class Turn:
    pictures: np.ndarray  # (K, R, R, 3) uint8 sRGB
    cameras: np.ndarray  # (K, 25) EG3D labels, the true ones
    yaws: np.ndarray  # (K,) radians


def render_turn(seed: int, index: int, env: np.ndarray, yaws: np.ndarray, resolution: int, lights: int,
                max_facet_px: float) -> Turn:
    """Held-out subject ``index`` under map ``env`` at ``yaws`` (radians, pitch 0), ``resolution`` px."""
    rng = rng_for(seed, "held-out-turn", index)
    subject = sample_subject(rng, pixel=pixel_size(RADIUS, resolution), max_facet_px=max_facet_px)
    light_set = uniform_light_set(lights)
    weights = light_weights(env, light_set.directions)
    pictures, cameras, exposure = [], [], None
    for yaw in yaws:
        camera = camera_label(orbit_camera(float(yaw), 0.0))
        samples = trace(subject, camera, resolution, 1)
        foreground = weighted_image(subject, samples, light_set.directions, weights)
        alpha = pool(samples, samples.coverage[:, None])
        if exposure is None:
            exposure = subject_exposure(foreground, alpha, EXPOSURE)
        background = pool(samples, equirect.sample(env, samples.rays))
        pictures.append(srgb_encode(composite(foreground, alpha, background) * exposure))
        cameras.append(camera)
    return Turn(np.stack(pictures), np.stack(cameras).astype(np.float32), np.asarray(yaws, dtype=np.float64))
