"""The light stage's key property, measured: relighting from OLATs equals direct lighting.

``direct_render`` integrates an environment map over its pixels' directions with
the same reflectance and shadows as the OLAT renders, without any OLAT image;
``olat_render`` relights the OLAT stack with the map's Voronoi-cell weights. They
differ only by the discretisation of the map into L lights.
"""

from __future__ import annotations

import numpy as np

from pipeline.light.equirect import pixel_directions, pixel_solid_angles
from pipeline.light.relight import light_weights, relight
from pipeline.light.sphere import uniform_light_set
from pipeline.synth.render import lit_image, trace, weighted_image
from pipeline.synth.subject import Subject


def smooth_environment(height: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth positive map (H, 2H, 3): a random low-order polynomial in the direction."""
    d = pixel_directions(height)
    coefficients = rng.uniform(-0.5, 0.5, (3, 3))
    env = 1.0 + d @ coefficients + 0.4 * np.clip(d[..., 1:2], 0, None) ** 2
    return np.clip(env, 0.05, None)


def direct_render(subject: Subject, camera: np.ndarray, env: np.ndarray, resolution: int, supersample: int) -> np.ndarray:
    """Premultiplied image (H, W, 3) lit by every pixel of ``env`` as a distant light."""
    samples = trace(subject, camera, resolution, supersample)
    height = env.shape[0]
    weights = env.reshape(-1, 3) * pixel_solid_angles(height).reshape(-1, 1)
    return weighted_image(subject, samples, pixel_directions(height).reshape(-1, 3), weights)


def olat_render(subject: Subject, camera: np.ndarray, env: np.ndarray, lights: int, resolution: int, supersample: int) -> np.ndarray:
    """Premultiplied image (H, W, 3): the OLAT stack for ``lights`` lights, relit by ``env``."""
    light_set = uniform_light_set(lights)
    samples = trace(subject, camera, resolution, supersample)
    olat = np.stack([lit_image(subject, samples, d) for d in light_set.directions])
    return relight(olat, light_weights(env, light_set.directions))


def relative_error(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Mean absolute error relative to the reference's mean."""
    return float(np.abs(estimate - reference).mean() / reference.mean())
