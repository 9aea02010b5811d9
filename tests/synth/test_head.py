"""The anny head model: parameters reach the mesh, the frame is head-local, the surface renders."""

import numpy as np
import pytest

from pipeline.synth.head import EXPRESSIONS, HeadModel, _boundary_loops, neck_loop, orthographic_rays, with_torso


@pytest.fixture(scope="module")
def model():
    return HeadModel()


def frontal(head, size=96, extent=0.32):
    """An orthographic view along -z: (hit (H, W), depth, interpolated normals)."""
    origins, direction = orthographic_rays(size, extent)
    caster = head.caster()
    hits = caster.closest(origins, np.tile(direction, (len(origins), 1)))
    normals = caster.interpolate(hits, head.normals)
    return hits.hit.reshape(size, size), hits.t.reshape(size, size), normals.reshape(size, size, 3)


def test_a_neutral_head_faces_plus_z_and_is_left_right_symmetric(model):
    phenotype = {name: 0.5 for name in model.phenotype_labels}
    head = model.mesh(phenotype, {})
    extent = head.vertices.max(axis=0) - head.vertices.min(axis=0)
    assert 0.15 < extent[0] < 0.22 and 0.2 < extent[1] < 0.3  # a head's width and height, in metres
    hit, depth, normals = frontal(head)
    assert 0.25 < hit.mean() < 0.6
    assert (hit == hit[:, ::-1]).mean() > 0.98  # the silhouette mirrors about x = 0
    # the nose is the nearest point and lies on the midline; normals there face the camera
    row, column = np.unravel_index(np.where(hit, depth, np.inf).argmin(), depth.shape)
    assert abs(column - (depth.shape[1] - 1) / 2) <= 2
    assert normals[row, column, 2] > 0.9
    # smooth shading: across a cheek the normal turns steadily (second differences measured: 0.024
    # interpolated, 0.119 with the facets' own normals), not in steps at facet edges
    # (over the window's pixels on the surface: where the nearest point falls, one corner may miss it)
    window = (slice(row - 4, row + 4), slice(column + 12, column + 20))
    on = hit[window]
    cheek = np.where(on[..., None], normals[window], np.nan)
    cheek = cheek / np.linalg.norm(cheek, axis=-1, keepdims=True)
    steps = np.linalg.norm(cheek[:, 2:] - 2 * cheek[:, 1:-1] + cheek[:, :-2], axis=-1)
    whole = on[:, 2:] & on[:, 1:-1] & on[:, :-2]
    assert whole.mean() > 0.9 and np.median(steps[whole]) < 0.05


def test_expressions_move_the_mouth_and_draws_are_reproducible(model):
    phenotype = {name: 0.5 for name in model.phenotype_labels}
    neutral = model.mesh(phenotype, {})
    open_mouth = model.mesh(phenotype, {a: 1.0 for a in EXPRESSIONS["open_mouth"]})
    moved = np.linalg.norm(open_mouth.vertices - neutral.vertices, axis=1)
    assert moved.max() > 0.01  # the jaw drops by centimetres
    assert np.median(moved) < 0.005  # most of the head stays where it was
    a, b = model.sample(np.random.default_rng(3)), model.sample(np.random.default_rng(3))
    assert np.array_equal(a.vertices, b.vertices) and a.actions == b.actions
    assert not np.array_equal(a.vertices, model.sample(np.random.default_rng(4)).vertices)
    with pytest.raises(KeyError, match="unknown head parameters"):
        model.mesh({"wingspan": 0.5}, {})


def test_neck_and_shoulders_join_the_head_without_a_gap(model):
    head = model.sample(np.random.default_rng(5))
    bust = with_torso(head)
    assert bust.head_vertices == len(head.vertices) and np.array_equal(bust.vertices[: len(head.vertices)], head.vertices)
    torso = bust.vertices[bust.head_vertices:]
    assert np.ptp(torso[:, 0]) > 1.8 * np.ptp(head.vertices[:, 0])  # shoulders far wider than the head
    # outward normals: away from the torso's vertical axis
    axis = torso.mean(axis=0)
    radial = (torso - axis) * [1.0, 0.0, 1.0]
    assert (np.sum(bust.normals[bust.head_vertices:] * radial, axis=1) > 0).mean() > 0.99
    # from the front and from the back (where the head's neck opening is highest), rays down the
    # middle of the neck hit something all the way down: no gap between head and neck
    ys = np.linspace(head.vertices[:, 1].min() + 0.05, head.vertices[:, 1].min() - 0.1, 80)
    for side in (1.0, -1.0):
        origins = np.column_stack([np.zeros_like(ys), ys, np.full_like(ys, side)])
        hits = bust.caster().closest(origins, np.tile([0.0, 0.0, -side], (len(ys), 1)))
        assert hits.hit.all(), "front" if side > 0 else "back"
    with pytest.raises(ValueError, match="already has a torso"):
        with_torso(bust)


def test_the_torso_is_stitched_to_the_neck_rim_without_a_crease(model):
    """The torso starts at the head's own neck rim, so head and torso are one surface: the rim is
    no longer an open edge, and the faces either side of it meet at gentle angles (a lip or a
    step would make them meet near 90 degrees)."""
    for seed in (1, 6):  # 1: a head whose rim rises 5 cm from front to back
        head = model.sample(np.random.default_rng(seed))
        bust = with_torso(head)
        loops = lambda faces: _boundary_loops(np.ascontiguousarray(faces, dtype=np.int32).tobytes(), len(faces))
        rim = neck_loop(head.vertices, head.faces)
        open_before, open_after = loops(head.faces), loops(bust.faces)
        assert any(set(rim) == set(loop) for loop in open_before)
        assert not any(set(rim) & set(loop) for loop in open_after)
        assert len(open_after) == len(open_before)  # the rim closed, the torso's bottom opened
        assert bust.vertices[max(open_after, key=len), 1].max() < head.vertices[:, 1].min() - 0.3

        v, f = bust.vertices.astype(np.float64), bust.faces
        normals = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
        normals /= np.linalg.norm(normals, axis=1, keepdims=True)
        sides = {}
        for index, triangle in enumerate(f):
            for a, b in ((0, 1), (1, 2), (2, 0)):
                sides.setdefault(frozenset((triangle[a], triangle[b])), []).append(index)
        angles = []
        for a, b in zip(rim, np.roll(rim, -1)):
            first, second = sides[frozenset((a, b))]  # exactly two faces: one head, one seam
            assert (first < len(head.faces)) != (second < len(head.faces))
            angles.append(np.degrees(np.arccos(np.clip(normals[first] @ normals[second], -1, 1))))
        assert np.median(angles) < 20 and max(angles) < 60, (np.median(angles), max(angles))
