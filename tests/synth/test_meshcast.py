"""Ray casting through Warp's BVH: nearest hits, barycentric weights, shadow rays, vertex normals."""

import numpy as np
import pytest

from pipeline.synth.meshcast import MeshCaster, vertex_normals


def uv_sphere(radius=1.0, rings=48, segments=96):
    """A closed triangulated sphere (vertices (V, 3), faces (F, 3)), outward winding."""
    theta = np.linspace(0, np.pi, rings + 1)[1:-1]
    phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    body = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], -1).reshape(-1, 3)
    vertices = np.concatenate([[[0, 0, 1]], body, [[0, 0, -1]]]) * radius
    ring = lambda r, s: 1 + r * segments + s % segments  # noqa: E731
    faces = [[0, ring(0, s), ring(0, s + 1)] for s in range(segments)]
    for r in range(rings - 2):
        for s in range(segments):
            faces += [[ring(r, s), ring(r + 1, s), ring(r + 1, s + 1)], [ring(r, s), ring(r + 1, s + 1), ring(r, s + 1)]]
    last = len(vertices) - 1
    faces += [[last, ring(rings - 2, s + 1), ring(rings - 2, s)] for s in range(segments)]
    return vertices.astype(np.float32), np.array(faces, dtype=np.int32)


@pytest.fixture(scope="module")
def sphere():
    vertices, faces = uv_sphere()
    return vertices, faces, MeshCaster(vertices, faces)


def test_nearest_hits_agree_with_the_analytic_sphere(sphere):
    vertices, faces, caster = sphere
    rng = np.random.default_rng(0)
    n = 4000
    targets = rng.uniform(-1.3, 1.3, (n, 2))
    origins = np.column_stack([targets, np.full(n, 5.0)])
    directions = np.tile([0.0, 0.0, -1.0], (n, 1))
    hits = caster.closest(origins, directions)
    inside = np.hypot(*targets.T) < 0.98  # away from the silhouette, where tessellation decides
    outside = np.hypot(*targets.T) > 1.0
    assert hits.hit[inside].all() and not hits.hit[outside].any()
    # the hit lies on the tessellated sphere: its facets lie within 1 - cos(pi / 48) ~ 2.1e-3 inside it
    radius = np.linalg.norm(origins[inside] + hits.t[inside, None] * directions[inside], axis=1)
    assert radius.max() < 1.0 + 1e-5 and radius.min() > 1.0 - 2.2e-3
    # and it is the nearest crossing: on the front half (z > 0)
    assert (5.0 - hits.t[inside] > 0).all()
    # the weights reproduce the hit point from the triangle's corners
    points = caster.interpolate(hits, vertices)[inside]
    expected = origins[inside] + hits.t[inside, None] * directions[inside]
    assert np.abs(points - expected).max() < 1e-4
    assert np.allclose(hits.weights[inside].sum(axis=1), 1.0, atol=1e-5) and (hits.weights[inside] >= -1e-6).all()


def test_interpolated_vertex_normals_are_smooth_and_outward(sphere):
    vertices, faces, caster = sphere
    normals = vertex_normals(vertices, faces)
    assert np.abs(np.sum(normals * vertices, axis=1) - 1.0).max() < 1e-3  # a sphere's normal is its position
    origins = np.array([[0.3, 0.2, 5.0], [0.0, 0.0, 5.0]])
    hits = caster.closest(origins, np.tile([0.0, 0.0, -1.0], (2, 1)))
    shading = caster.interpolate(hits, normals)
    position = origins + hits.t[:, None] * np.array([0.0, 0.0, -1.0])
    assert np.degrees(np.arccos(np.clip(np.sum(shading / np.linalg.norm(shading, axis=1, keepdims=True) * position
                                                / np.linalg.norm(position, axis=1, keepdims=True), axis=1), -1, 1))).max() < 0.5


def test_shadow_rays_see_any_blocker_within_their_length(sphere):
    _, _, caster = sphere
    origins = np.array([[0.0, 0.0, 3.0], [0.0, 0.0, 3.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.001]])
    directions = np.array([[0.0, 0.0, -1.0], [0.0, 0.0, -1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    lengths = [10.0, 1.5, 10.0, 10.0]  # through the sphere; stops short of it; beside it; leaving its surface
    blocked = [caster.occluded(o[None], d[None], t)[0] for o, d, t in zip(origins, directions, lengths)]
    assert blocked == [True, False, False, False]


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="faces must be"):
        MeshCaster(np.zeros((4, 3)), np.zeros((2, 4)))
    vertices, faces = uv_sphere(rings=8, segments=8)
    with pytest.raises(ValueError, match="differ"):
        MeshCaster(vertices, faces).closest(np.zeros((3, 3)), np.zeros((2, 3)))
