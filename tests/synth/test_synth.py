import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.io.arrays import load_array, load_png
from pipeline.io.datasets import LABELS, read_faces, read_lightstage
from pipeline.io.manifest import read_table
from pipeline.light.sphere import LightSet, uniform_light_set
from pipeline.synth.faces import YAW_STD, sample_pose
from pipeline.synth.hdri import procedural_sky
from pipeline.synth.preview import face_alpha_statistics
from pipeline.synth.render import render_view, trace, weighted_image
from pipeline.seeds import rng_for
from pipeline.synth.dataset import LIGHTSTAGE_RADIUS
from pipeline.synth.head_landmarks import MIDLINE, MIRROR_PAIRS
from pipeline.synth.landmarks import landmarks_2d
from pipeline.synth.meshcast import vertex_normals
from pipeline.synth.subject import REGION, REGIONS, sample_subject
from tests.synth.test_meshcast import uv_sphere


def test_same_params_give_byte_identical_files(tmp_path, small_dataset):
    # the worker count must not matter. Two workers are forked processes: forked from this test
    # process, which has run PyTorch's and Warp's thread pools, a worker can wait forever on a
    # lock a pool thread held at the fork (it hung the suite on the Intel CPU), so the two-worker
    # write runs in a fresh interpreter, as the synth stage does.
    script = "import sys; from pathlib import Path; from tests.conftest import small_spec, write_dataset; " \
             "write_dataset(Path(sys.argv[1]), small_spec(workers=2))"
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "again")], check=True, timeout=600)
    files = sorted(p.relative_to(small_dataset) for p in small_dataset.rglob("*") if p.is_file())
    again = sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file())
    assert files == again and len(files) > 50
    for rel in files:
        assert (small_dataset / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), rel


FRONT = camera_label(orbit_camera(0.0, 0.0, LIGHTSTAGE_RADIUS))


@pytest.fixture(scope="module")
def frontal():
    subject = sample_subject(np.random.default_rng(0))
    assert subject.hair.thickness > 0  # this draw has hair (a few percent are bald)
    lights = uniform_light_set(16)
    return subject, render_view(subject, FRONT, lights.directions, lights.solid_angles, 64, 2)


def test_gbuffers_are_consistent(frontal):
    _, view = frontal
    assert view.olat.shape == (16, 64, 64, 3)
    covered = view.alpha > 0
    assert 0.2 < covered.mean() < 0.9
    assert np.allclose(np.linalg.norm(view.normals[covered], axis=-1), 1.0, atol=1e-6)
    assert np.median(view.normals[covered][:, 2]) < -0.5  # surfaces face the camera (-z in OpenCV axes)
    assert (view.olat >= 0).all() and (view.olat[:, ~covered] == 0).all()
    assert (view.uv[covered] >= 0).all() and (view.uv[covered] <= 1).all()
    assert (np.abs(view.depth[covered] - LIGHTSTAGE_RADIUS) < 0.65).all()  # 0.25 m: long hair hangs behind the neck


def test_every_label_is_present_from_the_front(frontal):
    _, view = frontal
    assert set(np.unique(view.labels)) == set(range(len(LABELS)))


def test_hair_fuzz_gives_fractional_alpha(frontal):
    _, view = frontal
    foreground = view.alpha > 0.05
    fractional = foreground & (view.alpha < 0.95)
    assert fractional.sum() / foreground.sum() > 0.05
    hair = view.labels == LABELS.index("hair")
    assert fractional[hair].mean() > fractional[~hair].mean()  # the fuzz is at the hair


def test_lambertian_olat_matches_closed_form():
    # A sphere seen head-on: the centre pixel faces the camera; with no specular the OLAT value
    # for a light along the normal is albedo / pi, and a light from behind gives nothing.
    base = sample_subject(np.random.default_rng(2))
    vertices, faces = uv_sphere(0.2, rings=96, segments=192)
    vertices = vertices[:, [0, 2, 1]] * np.array([1.0, 1.0, -1.0], dtype=np.float32)  # poles on y: a vertex faces +z
    subject = dataclasses.replace(
        base, vertices=vertices, faces=faces, normals=vertex_normals(vertices, faces),
        corner_uv=np.zeros((len(faces), 3, 2), np.float32), region=np.full(len(faces), REGION["clothing"], np.int8),
        clothing=np.array([0.5, 0.4, 0.3]), collar=None, specular=np.zeros(len(REGIONS)), texture=0.0,
        shell_vertices=np.zeros((0, 3), np.float32), shell_faces=np.zeros((0, 3), np.int32), shell_normals=np.zeros((0, 3), np.float32),
        shell_uv=np.zeros((0, 3, 2), np.float32),
        shell_fuzz=np.zeros(0, np.float32))
    lights = LightSet(directions=np.array([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]), solid_angles=np.array([2 * np.pi] * 2))
    view = render_view(subject, camera_label(orbit_camera(0.0, 0.0)), lights.directions, lights.solid_angles, 33, 1)
    centre = view.olat[:, 16, 16]
    assert view.alpha[16, 16] == 1.0
    assert np.allclose(view.albedo[16, 16], [0.5, 0.4, 0.3], rtol=1e-6)
    assert np.allclose(centre[0], view.albedo[16, 16] / np.pi, rtol=2e-3)  # the smooth normal, within tessellation
    assert np.allclose(centre[1], 0.0)


def test_the_head_casts_its_shadow_on_the_neck(frontal):
    subject, _ = frontal
    # Both lights reach the front of the neck by n.l alone; only the one from above is blocked by the jaw.
    lights = LightSet(directions=np.array([[0.0, 0.8, 0.6], [0.0, 0.0, 1.0]]), solid_angles=np.array([2 * np.pi] * 2))
    view = render_view(subject, FRONT, lights.directions, lights.solid_angles, 64, 1)
    front_of_neck = (view.labels == LABELS.index("neck")) & (view.normals[..., 2] < -0.5)
    assert front_of_neck.sum() > 20
    lit_from_above = view.olat[0][front_of_neck].sum(axis=-1)
    lit_from_front = view.olat[1][front_of_neck].sum(axis=-1)
    assert (lit_from_front > 0).all()
    assert (lit_from_above == 0).mean() > 0.3  # n.l > 0 everywhere here: only a cast shadow makes zeros


def test_hdri_dynamic_range_and_positivity():
    env = procedural_sky(np.random.default_rng(5), 32)
    assert env.shape == (32, 64, 3) and (env > 0).all()
    assert env.max() / np.median(env) >= 1000


def test_face_poses_are_mostly_frontal_with_a_yaw_spread():
    poses = np.array([sample_pose(rng_for(0, "pose test", i)) for i in range(2000)])
    yaw, pitch = np.degrees(poses).T
    assert abs(np.median(yaw)) < 2
    assert 15 < yaw.std() < 25 and pitch.std() < yaw.std() / 2
    assert np.degrees(YAW_STD) == pytest.approx(20)


def test_raw_dataset_contract(small_dataset):
    manifest, _ = read_lightstage(small_dataset / "lightstage")
    assert {len(v) for v in manifest["landmarks_visible"]} == {68}
    assert np.asarray(load_array(small_dataset / "lightstage" / manifest.labels[0])).dtype == np.uint8
    faces = read_faces(small_dataset / "faces")
    truth = read_table(small_dataset / "faces_truth" / "cameras.parquet")
    assert list(truth["image"]) == list(faces["image"])
    assert "camera" not in faces.columns  # the pose stage must estimate it
    image = load_png(small_dataset / "faces" / faces.path[0])
    assert image.shape == (24, 24, 3) and image.std() > 5
    assert set(np.unique(load_png(small_dataset / "faces" / faces.labels[0]))) <= set(range(len(LABELS)))
    assert (face_alpha_statistics(small_dataset / "lightstage", manifest) > 0.05).all()


def test_the_68_landmarks_project_onto_a_frontal_render_in_order_and_mirrored(frontal):
    # The subject's right is on the image's left; each pair straddles the face's vertical midline.
    subject, view = frontal
    xy, visible = landmarks_2d(subject, FRONT, 64)
    assert xy.shape == (68, 2)
    assert visible[17:60].all()  # brows, nose, eyes and outer lips face a frontal camera
    midline = xy[list(MIDLINE), 0].mean()
    for right, left in MIRROR_PAIRS:
        assert xy[right, 0] < xy[left, 0]
        assert abs((xy[right, 0] + xy[left, 0]) / 2 - midline) < 0.5  # pixels, at 64 px
        assert abs(xy[right, 1] - xy[left, 1]) < 0.5
    x, y = xy.T
    assert (np.diff(x[0:17]) > 0).all() and y[8] == y[0:17].max()  # the jaw from right to left, the chin lowest
    assert y[27] < y[30] < y[51] < y[57] < y[8]  # image y grows downwards: bridge, tip, lips, chin
    eyes = np.round(xy[36:48]).astype(int)
    assert np.isin(view.labels[eyes[:, 1], eyes[:, 0]], [LABELS.index("eyes"), LABELS.index("skin")]).all()
    lips = np.round((xy[[51, 57]] + xy[[62, 66]]) / 2).astype(int)  # inside the upper and lower lip
    assert (view.labels[lips[:, 1], lips[:, 0]] == LABELS.index("lips")).all()


def test_shadow_rays_cast_together_give_the_image_of_one_light_at_a_time():
    """``weighted_image`` casts the shadow rays of many lights in one call; the picture must be
    the one that casting them light by light gives, to the bit, whatever the group size."""
    subject = sample_subject(np.random.default_rng(3))
    camera = camera_label(orbit_camera(0.4, 0.1))
    samples = trace(subject, camera, 24, 1)
    lights = uniform_light_set(16).directions
    weights = np.random.default_rng(4).uniform(0, 1, (16, 3)) * (np.arange(16) % 5 != 0)[:, None]  # some lights off
    one_by_one = weighted_image(subject, samples, lights, weights, rays_per_call=0)
    assert one_by_one.max() > 0.05
    for group in (300, 1 << 19):
        assert np.array_equal(weighted_image(subject, samples, lights, weights, rays_per_call=group), one_by_one)
