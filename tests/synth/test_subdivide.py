from math import factorial

import numpy as np
import pytest

from pipeline.camera.eg3d import RADIUS, pixel_size
from pipeline.seeds import rng_for
from pipeline.synth.subdivide import MAX_LEVELS, edge_bulges, levels_for, pn_control_points, pn_points, refine
from pipeline.synth.subject import SCALE, sample_subject


def icosphere(subdivisions: int) -> tuple[np.ndarray, np.ndarray]:
    """A unit sphere: an icosahedron split flat and pushed onto the sphere (normals = positions)."""
    t = (1 + 5**0.5) / 2
    v = np.array([[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t], [0, -1, -t], [0, 1, -t],
                  [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]], dtype=np.float64)
    f = np.array([[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4], [11, 10, 2],
                  [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9], [4, 9, 5], [2, 4, 11],
                  [6, 2, 10], [8, 6, 7], [9, 8, 1]])
    for _ in range(subdivisions):
        mids = {}
        faces = []
        for a, b, c in f:
            ids = []
            for p, q in ((a, b), (b, c), (c, a)):
                key = (min(p, q), max(p, q))
                if key not in mids:
                    mids[key] = len(v)
                    v = np.vstack([v, (v[p] + v[q]) / 2])
                ids.append(mids[key])
            faces += [[a, ids[0], ids[2]], [b, ids[1], ids[0]], [c, ids[2], ids[1]], ids]
        f = np.array(faces)
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    return v, f


def slow_pn_point(corners, normals, weights):
    """The cubic Bezier triangle summed term by term over its ten control points."""
    control = {}
    for i in range(3):
        control[tuple(3 if k == i else 0 for k in range(3))] = corners[i]
        for j in range(3):
            if i != j:
                w = np.dot(corners[j] - corners[i], normals[i])
                control[tuple(2 if k == i else 1 if k == j else 0 for k in range(3))] = (2 * corners[i] + corners[j] - w * normals[i]) / 3
    edge_points = [p for key, p in control.items() if sorted(key) == [0, 1, 2]]
    e = sum(edge_points) / 6
    control[(1, 1, 1)] = e + (e - corners.mean(axis=0)) / 2
    point = np.zeros(3)
    for key, p in control.items():
        coefficient = factorial(3) / np.prod([factorial(k) for k in key])
        point += coefficient * np.prod([weights[k] ** key[k] for k in range(3)]) * p
    return point


def test_pn_points_match_the_bernstein_sum_term_by_term():
    rng = np.random.default_rng(0)
    corners = rng.normal(size=(20, 3, 3))
    normals = rng.normal(size=(20, 3, 3))
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    weights = rng.dirichlet(np.ones(3), size=20)
    fast = pn_points(corners, normals, weights)
    slow = np.array([slow_pn_point(c, n, w) for c, n, w in zip(corners, normals, weights)])
    assert np.allclose(fast, slow, atol=1e-12)
    # through the corners, and a flat triangle with its face normal stays flat
    assert np.allclose(pn_points(corners, normals, np.tile(np.eye(3)[1], (20, 1))), corners[:, 1], atol=1e-12)
    flat = np.array([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]])
    up = np.tile([0.0, 0, 1], (1, 3, 1))
    assert np.allclose(pn_points(flat, up, np.array([[0.2, 0.3, 0.5]]))[0], [0.3, 0.5, 0.0], atol=1e-12)
    assert pn_control_points(flat, up)[1].shape == (1, 3)


@pytest.mark.parametrize("levels", [1, 2, 3])
def test_refining_leaves_no_crack_and_keeps_the_winding(levels):
    v, f = icosphere(1)
    fine = refine(v, f, v, levels)
    steps = 2**levels
    edges = np.sort(np.concatenate([fine.faces[:, [0, 1]], fine.faces[:, [1, 2]], fine.faces[:, [2, 0]]]), axis=1)
    _, count = np.unique(edges, axis=0, return_counts=True)
    assert (count == 2).all()  # closed: every edge between exactly two triangles, so the grids met along every edge
    coarse_edges = len(np.unique(np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1), axis=0))
    assert len(fine.vertices) == len(v) + coarse_edges * (steps - 1) + len(f) * (steps - 1) * (steps - 2) // 2
    assert len(fine.faces) == len(f) * steps**2
    a, b, c = (fine.vertices[fine.faces[:, k]] for k in range(3))
    assert (np.einsum("ij,ij->i", np.cross(b - a, c - a), a + b + c) > 0).all()  # still facing out


def test_refined_sphere_lies_closer_to_the_sphere_than_the_flat_triangles():
    v, f = icosphere(2)  # edges turn about 16 degrees
    flat = refine(v, f, v, 2)
    # the same grid on the flat triangles, for comparison
    linear = np.einsum("vk,vkd->vd", flat.vertex_weights, v[f[flat.vertex_face]])
    flat_error = np.abs(np.linalg.norm(linear, axis=1) - 1).max()
    pn_error = np.abs(np.linalg.norm(flat.vertices, axis=1) - 1).max()
    assert flat_error > 0.005
    assert pn_error < flat_error / 20
    assert np.abs(np.linalg.norm(flat.normals, axis=1) - 1).max() < 1e-6


def test_levels_bring_the_bulge_under_the_pixel_share_and_carry_attributes():
    v, f = icosphere(1)
    pixel = 0.002
    before = np.quantile(edge_bulges(v, f, v), 0.99) / pixel
    levels = levels_for(v, f, v, pixel, 0.75)
    assert 1 <= levels <= MAX_LEVELS and before > 0.75
    fine = refine(v, f, v, levels)
    assert np.quantile(edge_bulges(fine.vertices, fine.faces, fine.normals), 0.99) / pixel <= 0.75
    assert levels_for(v, f, v, pixel, before * 1.01) == 0
    # a per-corner quantity equal to the corners' own barycentric weights gives each new corner its weights
    identity = np.tile(np.eye(3), (len(f), 1, 1))
    assert np.allclose(fine.per_corner(identity), fine.corner_weights)
    # a per-vertex quantity linear in position is carried exactly onto the flat grid
    height = v[:, 2].copy()
    linear = np.einsum("vk,vk->v", fine.vertex_weights, height[f[fine.vertex_face]])
    assert np.allclose(fine.per_vertex(height, f), linear)
    with pytest.raises(ValueError, match="levels"):
        refine(v, f, v, MAX_LEVELS + 1)


def test_a_subject_refined_for_its_render_keeps_its_looks_and_landmarks():
    coarse = sample_subject(rng_for(0, "subject", 1))
    fine = sample_subject(rng_for(0, "subject", 1), pixel=pixel_size(RADIUS, 512))
    assert len(fine.shell_faces) > len(coarse.shell_faces) and len(fine.faces) > len(coarse.faces)
    assert np.array_equal(fine.skin.tone, coarse.skin.tone) and fine.hair.seed == coarse.hair.seed  # refining draws nothing
    assert np.array_equal(fine.anchor, coarse.anchor)
    moved = np.linalg.norm(fine.landmarks - coarse.landmarks, axis=1) / SCALE
    assert moved.max() < 0.002  # metres: onto the smooth surface, within the coarse triangles' bulge
    assert fine.shell_uv.shape == (len(fine.shell_faces), 3, 2) and len(fine.shell_fuzz) == len(fine.shell_vertices)
    assert fine.corner_uv.shape == (len(fine.faces), 3, 2) and len(fine.region) == len(fine.faces)
    # regions keep their share of the surface
    for index in np.unique(coarse.region):
        assert np.isclose((fine.region == index).mean(), (coarse.region == index).mean())
