"""Long hair: the curtain's shape, the ray walk through overlapping hair volumes, and a render."""

from types import SimpleNamespace

import numpy as np
import pytest

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.io.datasets import LABELS
from pipeline.light.sphere import uniform_light_set
from pipeline.seeds import rng_for
from pipeline.synth.dataset import LIGHTSTAGE_RADIUS
from pipeline.synth.landmarks import project
from pipeline.synth.long_hair import RESTS, curtain
from pipeline.synth.meshcast import MeshCaster
from pipeline.synth.raycast import _hair_exit
from pipeline.synth.render import render_view
from pipeline.synth.subject import _face_normals, sample_subject
from tests.synth.test_meshcast import uv_sphere


def box(low, high):
    """A closed axis-aligned box (vertices, faces), outward winding."""
    corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = [tri for a, b, c, d in quads for tri in ((a, b, c), (a, c, d))]
    return corners.astype(np.float32), np.array(faces, dtype=np.int32)


def holder(vertices, faces):
    """What ``_hair_exit`` reads of a subject: the hair's caster and its face normals."""
    return SimpleNamespace(shell=MeshCaster(vertices, faces), shell_face_normals=_face_normals(vertices, faces))


def test_box_winding_faces_out():
    vertices, faces = box((0, 0, 0), (1, 1, 1))
    normals = _face_normals(vertices, faces)
    centres = vertices[faces].mean(axis=1)
    assert (np.einsum("ij,ij->i", normals, centres - 0.5) > 0).all()


def test_a_ray_counts_overlapping_hair_volumes_as_their_union():
    # Two overlapping boxes along x, [0, 2] and [1, 3]: a ray along x enters at 0 and has left both at 3.
    a, fa = box((0, -1, -1), (2, 1, 1))
    b, fb = box((1, -0.5, -0.5), (3, 0.5, 0.5))
    hair = holder(np.concatenate([a, b]), np.concatenate([fa, fb + len(a)]))
    origins = np.array([[-1.0, 0.1, 0.05], [-1.0, 0.8, 0.05]])  # through both; through the first only
    directions = np.array([[1.0, 0.0, 0.0]] * 2)
    first = hair.shell.closest(origins, directions)
    leaving = np.einsum("ij,ij->i", hair.shell_face_normals[first.face], directions) > 0
    out = _hair_exit(hair, origins, directions, first.t.astype(np.float64), leaving, np.full(2, np.inf))
    assert np.allclose(out, [4.0, 3.0], atol=1e-3)  # distances from x = -1
    # A body in the way ends the walk there.
    cut = _hair_exit(hair, origins, directions, first.t.astype(np.float64), leaving, np.array([2.5, 2.5]))
    assert (cut >= 2.5).all() and (cut <= 4.0 + 1e-3).all()
    # A ray starting inside the hair is counted from where it starts to where it leaves.
    inside = _hair_exit(hair, np.array([[2.5, 0.0, 0.0]]), directions[:1], np.array([0.5]), np.array([True]),
                        np.array([np.inf]))
    assert np.allclose(inside, [0.5], atol=1e-3)


def test_the_curtain_falls_plumb_from_the_widest_part_of_the_head_and_rests_on_the_shoulders():
    head, faces = uv_sphere(radius=0.1, rings=48, segments=96)
    shell = head * 1.1
    shoulders, shoulder_faces = box((-0.25, -0.3, -0.06), (0.25, -0.16, 0.06))
    body = MeshCaster(np.concatenate([head, shoulders]), np.concatenate([faces, shoulder_faces + len(head)]))
    slab = curtain(body, MeshCaster(shell, faces), np.zeros(2), brows=0.0, chin=-0.1, length=0.25, thickness=0.01,
                   front=1.4, seed=3, columns=64)
    half = len(slab.vertices) // 2
    outer, inner = slab.vertices[:half], slab.vertices[half:]
    radius = lambda v: np.hypot(v[:, 0], v[:, 2])  # noqa: E731
    below_equator = (inner[:, 1] < -0.02) & (inner[:, 1] > -0.15)
    # Below the widest part of the shell (radius 0.11 at the equator) the hair hangs at that radius.
    assert np.allclose(radius(inner[below_equator]), 0.11, atol=2e-3)
    assert (radius(outer) >= radius(inner) - 1e-6).all() and radius(outer).max() > 0.11 + 0.009
    # At the top it is flush with the shell, and inside it: no ledge where it comes out.
    top = outer[:, 1] > 0.04
    assert (radius(outer[top]) <= np.hypot(0.11, 0.0) * np.cos(np.arcsin(0.04 / 0.11)) + 2e-3).all()
    # At the back (azimuth near pi) nothing juts out, so the hair falls its whole length;
    # at the sides the shoulders (x out to 0.25) jut past the head, and the hair rests on them.
    azimuth = np.arctan2(inner[:, 0], inner[:, 2]) % (2 * np.pi)
    back, sides = np.abs(azimuth - np.pi) < 0.3, np.abs(np.abs(azimuth - np.pi) - np.pi / 2) < 0.1
    assert inner[back, 1].min() < -0.1 - 0.25 + 0.03
    assert inner[sides, 1].min() > -0.16 - 0.01 and radius(inner[sides]).max() < 0.11 + RESTS + 0.01
    # Outer faces face away from the axis, inner ones towards it: a closed slab, seen from outside.
    normals = _face_normals(slab.vertices, slab.faces)
    centres = slab.vertices[slab.faces].mean(axis=1)
    radial = centres * np.array([1.0, 0.0, 1.0])
    facing = np.einsum("ij,ij->i", normals, radial)
    half_faces = len(slab.faces) // 2
    thick = np.linalg.norm(outer[slab.faces[:half_faces]].mean(axis=1) - inner[slab.faces[:half_faces]].mean(axis=1), axis=1) > 1e-4
    assert (facing[:half_faces][thick] > 0).mean() > 0.99 and (facing[half_faces:][thick] < 0).mean() > 0.99


@pytest.fixture(scope="module")
def long_haired():
    for index in range(40):
        subject = sample_subject(rng_for(0, "face", index))
        if subject.hair.length is not None and subject.hair.length > 0.12:
            return subject
    raise AssertionError("no long-haired subject in 40 draws")


def test_long_hair_falls_below_the_chin_with_fractional_tips(long_haired):
    lights = uniform_light_set(8)
    back = camera_label(orbit_camera(np.pi, 0.0, LIGHTSTAGE_RADIUS))
    view = render_view(long_haired, back, lights.directions, lights.solid_angles, 64, 2)
    hair = view.labels == LABELS.index("hair")
    rows = np.flatnonzero(hair.any(axis=1))
    chin_row = project(back, long_haired.landmarks[8:9], 64)[0, 1]  # the chin's height, seen from behind
    assert rows.max() > min(chin_row + 6, 62)  # hair falls below the chin
    tips = (view.alpha > 0.05) & (view.alpha < 0.95) & hair
    assert tips.sum() > 10  # its ends and edges are partly see-through
    assert (view.olat >= 0).all() and np.isfinite(view.olat).all()
