import numpy as np

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.io.arrays import load_array
from pipeline.light.sphere import uniform_light_set
from pipeline.synth.dataset import SynthSpec, write_hdris, write_lightstage
from pipeline.synth.hdri import procedural_sky
from pipeline.synth.render import render_view
from pipeline.synth.subject import sample_subject

SPEC = SynthSpec(seed=1, subjects=3, test_subjects=1, views=2, resolution=24, supersample=2, lights=12,
                 max_yaw_deg=20.0, hdris=3, test_hdris=1, hdri_height=16)


def test_same_params_give_byte_identical_files(tmp_path):
    for run in ("a", "b"):
        write_lightstage(tmp_path / run / "lightstage", SPEC)
        write_hdris(tmp_path / run / "hdri", SPEC)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 10
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_render_gbuffers_are_consistent():
    subject = sample_subject(np.random.default_rng(0))
    lights = uniform_light_set(16)
    view = render_view(subject, camera_label(orbit_camera(0.0, 0.0)), lights, 32, 3)
    assert view.olat.shape == (16, 32, 32, 3)
    covered = view.alpha > 0
    assert 0.2 < covered.mean() < 0.9
    edge = (view.alpha > 0.05) & (view.alpha < 0.95)
    assert edge.any()  # anti-aliased silhouette: fractional coverage
    assert np.allclose(np.linalg.norm(view.normals[covered], axis=-1), 1.0, atol=1e-6)
    assert (view.normals[covered][:, 2] < 0.2).all()  # visible surfaces face the camera (-z in OpenCV)
    assert (view.olat >= 0).all() and (view.olat[:, ~covered] == 0).all()


def test_lambertian_olat_matches_closed_form_on_a_sphere_point():
    # A sphere seen head-on: the centre pixel's normal faces the camera; with no
    # specular the OLAT value for a light along the normal is albedo / pi.
    subject = sample_subject(np.random.default_rng(2))
    subject = type(subject)(centres=subject.centres[:1] * 0, radii=np.full((1, 3), 0.2), albedo=subject.albedo[:1],
                            specular=np.zeros(1), exponent=np.ones(1))
    from pipeline.light.sphere import LightSet

    lights = LightSet(directions=np.array([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]), solid_angles=np.array([2 * np.pi] * 2))
    view = render_view(subject, camera_label(orbit_camera(0.0, 0.0)), lights, 33, 1)
    assert np.allclose(view.olat[0, 16, 16], subject.albedo[0] / np.pi, rtol=1e-3)
    assert np.allclose(view.olat[1, 16, 16], 0.0)  # lit from behind


def test_hdri_dynamic_range_and_positivity():
    env = procedural_sky(np.random.default_rng(5), 32)
    assert env.shape == (32, 64, 3) and (env > 0).all()
    assert env.max() / np.median(env) >= 1000
