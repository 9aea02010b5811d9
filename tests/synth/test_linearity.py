"""Relighting the OLAT stack agrees with lighting the subject directly by the map,
and the error shrinks as the number of lights grows."""

import numpy as np

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.synth.linearity import direct_render, olat_render, relative_error, smooth_environment
from pipeline.synth.subject import sample_subject


def test_olat_relighting_converges_to_direct_lighting():
    rng = np.random.default_rng(7)
    subject = sample_subject(rng)
    camera = camera_label(orbit_camera(0.3, 0.1))
    env = smooth_environment(24, rng)
    reference = direct_render(subject, camera, env, 24, 1)
    errors = [relative_error(olat_render(subject, camera, env, lights, 24, 1), reference) for lights in (16, 64, 256)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.02


def test_a_single_pixel_environment_is_exactly_one_light():
    # An environment that is one bright pixel is a distant light: both paths agree to rounding
    # once the OLAT set contains that pixel's direction as a light.
    from pipeline.light.equirect import pixel_directions, pixel_solid_angles
    from pipeline.light.relight import light_weights
    from pipeline.synth.render import lit_image, trace

    subject = sample_subject(np.random.default_rng(3))
    camera = camera_label(orbit_camera(0.0, 0.0))
    env = np.zeros((8, 16, 3))
    env[3, 5] = [2.0, 1.0, 0.5]
    direction = pixel_directions(8)[3, 5]
    samples = trace(subject, camera, 16, 1)
    weights = light_weights(env, direction[None])
    assert np.allclose(weights[0], env[3, 5] * pixel_solid_angles(8)[3, 5])
    relit = lit_image(subject, samples, direction) * weights[0]
    assert np.allclose(relit, direct_render(subject, camera, env, 16, 1), atol=1e-12)
