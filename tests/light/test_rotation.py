"""Turning a map about the vertical turns its light maps and the relit image consistently."""

import dataclasses

import numpy as np

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.light.equirect import pixel_directions
from pipeline.light.pairs import Environment, light_view
from pipeline.light.prefilter import light_maps
from pipeline.light.sphere import uniform_light_set
from pipeline.synth.render import render_view
from pipeline.synth.subject import REGIONS, Subject, sample_subject


def lambertian_subject() -> Subject:
    subject = sample_subject(np.random.default_rng(4))
    return dataclasses.replace(subject, specular=np.zeros(len(REGIONS)))


def lopsided_environment(height: int) -> np.ndarray:
    """A smooth map, bright on one side, so that turning it changes the lighting a lot."""
    d = pixel_directions(height)
    return (0.2 + 3.0 * np.clip(d[..., 0:1] + 0.3 * d[..., 1:2], 0, None) ** 2) * np.array([1.0, 0.9, 0.8])


def test_relit_image_and_diffuse_light_map_turn_together():
    subject = lambertian_subject()
    camera = camera_label(orbit_camera(0.2, 0.0))
    lights = uniform_light_set(256)
    view = render_view(subject, camera, lights.directions, lights.solid_angles, 32, 1)
    env = lopsided_environment(32)
    maps = light_maps(env, 16)
    environment = Environment(env=env, diffuse=maps["diffuse"], phong=maps["phong"])
    skin = (view.alpha > 0.99) & (view.labels == 1)

    def lit(turn: int):
        return light_view(view.olat, lights.directions, view.alpha, view.normals, camera, environment.rotated(turn))

    def mismatch(relit_turn: int, map_turn: int) -> float:
        """How far the relit image is from albedo x diffuse light map (Lambertian, unshadowed)."""
        relit, diffuse = lit(relit_turn).relit, lit(map_turn).diffuse
        return float(np.median(np.abs(relit[skin] - view.albedo[skin] * diffuse[skin]) / (view.albedo[skin] * diffuse[skin])))

    # the model ignores cast shadows (nose, chin on the neck): 0.03-0.11 over eight turns on this
    # subject, against 0.56-2.6 when the map is turned and the image is not
    for turn in (0, 8, 20):
        assert mismatch(turn, turn) < 0.15
        assert mismatch(turn, turn) < 0.3 * mismatch(turn, turn + 8)
    full = lit(32)  # a whole turn: 32 light-map columns
    assert np.allclose(full.relit, lit(0).relit) and np.allclose(full.diffuse, lit(0).diffuse)
