"""Smooth silhouettes for flat triangle meshes: PN triangles (Vlachos et al., "Curved PN
Triangles", I3D 2001), sampled on a finer grid where a silhouette would show facets.

Interior shading already looks smooth (the renderer interpolates vertex normals);
only outlines reveal the flat triangles. A PN triangle is the cubic Bezier patch
that passes through a triangle's corners, meets its vertex normals there, and
depends along each edge only on that edge's two corners and their normals: two
triangles that share an edge share its curve, so sampling every patch on the same
grid leaves no crack. ``refine`` samples each patch ``2 ** levels`` steps per edge;
normals at the new vertices are the corners' normals interpolated linearly, so the
shading (which interpolates them anyway) is the same as before and only the
geometry bends.

How many levels: for an edge of length e whose end normals turn by an angle t, the
smooth arc bulges about e * t / 8 from the chord (a circular arc's sagitta), and
each level halves both e and t, so it quarters the bulge. ``levels_for`` takes the
fewest levels that bring a high quantile of the edges' bulge under a share of a
pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_LEVELS = 3  # 64 times the triangles: more would outgrow any resolution the profiles render


@dataclass(frozen=True)
class Refined:
    """A refined mesh; each new vertex and triangle remembers where it lies on the original."""

    vertices: np.ndarray  # (V', 3) on the PN patches
    faces: np.ndarray  # (F', 3) same winding as their parents
    normals: np.ndarray  # (V', 3) unit: the parent corners' normals interpolated linearly
    parent: np.ndarray  # (F',) the original triangle each new one lies in
    corner_weights: np.ndarray  # (F', 3, 3) barycentric weights of each new corner in its parent
    vertex_face: np.ndarray  # (V',) an original triangle each new vertex lies in
    vertex_weights: np.ndarray  # (V', 3) its barycentric weights there

    def per_vertex(self, values: np.ndarray, faces: np.ndarray) -> np.ndarray:
        """An original per-vertex quantity (V, ...) carried linearly to the new vertices (V', ...)."""
        corners = values[faces[self.vertex_face]]  # (V', 3, ...)
        weights = self.vertex_weights.reshape(self.vertex_weights.shape + (1,) * (values.ndim - 1))
        return np.sum(corners * weights, axis=1).astype(values.dtype)

    def per_corner(self, values: np.ndarray) -> np.ndarray:
        """An original per-corner quantity (F, 3, D), such as texture coordinates, for the new
        triangles (F', 3, D)."""
        return np.einsum("fij,fjd->fid", self.corner_weights, values[self.parent]).astype(values.dtype)


def unique_edges(faces: np.ndarray) -> np.ndarray:
    """(E, 2) vertex pairs, lower id first, of a mesh's edges, sorted."""
    faces = np.asarray(faces, dtype=np.int64)
    pairs = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    stride = int(faces.max()) + 1 if len(faces) else 1
    keys = np.unique(pairs[:, 0] * stride + pairs[:, 1])  # one integer per pair: far faster than unique rows
    return np.column_stack([keys // stride, keys % stride])


def edge_bulges(vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Bulge (E,) of the smooth arc over every unique edge, in the vertices' units."""
    edges = unique_edges(faces)
    length = np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1)
    turn = np.arccos(np.clip(np.sum(normals[edges[:, 0]] * normals[edges[:, 1]], axis=1), -1.0, 1.0))
    return length * turn / 8


def levels_for(vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray, pixel: float, max_px: float,
               quantile: float = 0.99) -> int:
    """The fewest levels (0 to ``MAX_LEVELS``) after which the ``quantile`` of the edges' bulge is at
    most ``max_px`` pixels of ``pixel`` world units each."""
    if not len(faces):
        return 0
    bulge = float(np.quantile(edge_bulges(vertices, faces, normals), quantile)) / pixel
    levels = 0
    while bulge > max_px and levels < MAX_LEVELS:
        bulge, levels = bulge / 4, levels + 1
    return levels


def pn_control_points(corners: np.ndarray, normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edge control points (F, 3, 3, 3) and the centre one (F, 3) of each triangle's cubic patch.

    corners, normals: (F, 3 corners, 3). ``edge[:, i, j]`` is b_ij, the control point on
    edge i-j next to corner i: (2 P_i + P_j - ((P_j - P_i) . N_i) N_i) / 3 (unused for i == j).
    """
    offsets = corners[:, None, :, :] - corners[:, :, None, :]  # [f, i, j] = P_j - P_i
    along = np.einsum("fijd,fid->fij", offsets, normals)  # (P_j - P_i) . N_i
    edge = (2 * corners[:, :, None, :] + corners[:, None, :, :] - along[..., None] * normals[:, :, None, :]) / 3
    pairs = [(i, j) for i in range(3) for j in range(3) if i != j]
    mean_edge = sum(edge[:, i, j] for i, j in pairs) / 6
    centre = mean_edge + (mean_edge - corners.mean(axis=1)) / 2
    return edge, centre


def pn_points(corners: np.ndarray, normals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Points (N, 3) on the PN patches of N triangles (corners and normals (N, 3, 3)) at barycentric
    ``weights`` (N, 3)."""
    edge, centre = pn_control_points(corners, normals)
    a = weights
    point = np.einsum("ni,nid->nd", a**3, corners)
    for i in range(3):
        for j in range(3):
            if i != j:
                point += 3 * (a[:, i] ** 2 * a[:, j])[:, None] * edge[:, i, j]
    return point + 6 * np.prod(a, axis=1)[:, None] * centre


def _grid(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer barycentric coordinates (P, 3) of a triangle's grid points, ``steps`` per edge,
    and its sub-triangles (T, 3) as indices into them, wound as the triangle."""
    points = [(steps - i - j, i, j) for j in range(steps + 1) for i in range(steps + 1 - j)]
    index = {(p[1], p[2]): k for k, p in enumerate(points)}
    triangles = []
    for j in range(steps):
        for i in range(steps - j):
            triangles.append((index[i, j], index[i + 1, j], index[i, j + 1]))
            if i + j < steps - 1:
                triangles.append((index[i + 1, j], index[i + 1, j + 1], index[i, j + 1]))
    return np.array(points, dtype=np.int64), np.array(triangles, dtype=np.int64)


def _global_ids(faces: np.ndarray, grid: np.ndarray, steps: int, count: int) -> np.ndarray:
    """A vertex id (F, P) for each grid point of each face, shared where faces share a corner or an edge."""
    ids = np.empty((len(faces), len(grid)), dtype=np.int64)
    nonzero = grid > 0
    on_corner = nonzero.sum(axis=1) == 1
    on_edge = nonzero.sum(axis=1) == 2
    for p in np.flatnonzero(on_corner):
        ids[:, p] = faces[:, int(np.argmax(grid[p]))]
    pairs = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [0, 2]]]), axis=1)
    edges, edge_of = np.unique(pairs, axis=0, return_inverse=True)
    edge_of = edge_of.reshape(3, len(faces)).T  # (F, 3): faces' edges 0-1, 1-2, 0-2
    slot = {(0, 1): 0, (1, 2): 1, (0, 2): 2}
    for p in np.flatnonzero(on_edge):
        i, j = np.flatnonzero(nonzero[p])
        edge = edge_of[:, slot[i, j]]
        # the step along the edge, counted from its lower vertex id, so both faces agree
        step = np.where(faces[:, i] < faces[:, j], grid[p, j], grid[p, i])
        ids[:, p] = count + edge * (steps - 1) + step - 1
    inner = np.flatnonzero(~on_corner & ~on_edge)
    first = count + len(edges) * (steps - 1)
    ids[:, inner] = first + np.arange(len(faces))[:, None] * len(inner) + np.arange(len(inner))[None, :]
    return ids


def refine(vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray, levels: int) -> Refined:
    """Every triangle's PN patch sampled ``2 ** levels`` steps per edge. Vertices no triangle uses
    are dropped. ``levels`` 0 gives the mesh as it is (the patch passes through its corners)."""
    if not 0 <= levels <= MAX_LEVELS:
        raise ValueError(f"levels must be 0 to {MAX_LEVELS}, got {levels}")
    faces = np.asarray(faces, dtype=np.int64)
    steps = 2**levels
    grid, triangles = _grid(steps)
    ids = _global_ids(faces, grid, steps, len(vertices))  # (F, P)
    weights = grid / steps  # (P, 3)
    corners = vertices[faces].astype(np.float64)  # (F, 3, 3)
    corner_normals = normals[faces].astype(np.float64)
    f = len(faces)
    face_of = np.repeat(np.arange(f), len(grid))
    point_weights = np.tile(weights, (f, 1))  # (F * P, 3)
    points = pn_points(corners[face_of], corner_normals[face_of], point_weights)
    smooth = np.einsum("ni,nid->nd", point_weights, corner_normals[face_of])
    # number the vertices that are used, in order of first use
    used, first, new_id = np.unique(ids.ravel(), return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    new_id = rank[new_id].reshape(f, len(grid))
    source = first[order]  # for each new vertex, one (face, grid point) that made it
    new_faces = new_id[:, triangles].reshape(-1, 3)
    return Refined(
        vertices=points[source].astype(vertices.dtype),
        faces=new_faces.astype(np.int32),
        normals=(smooth[source] / np.maximum(np.linalg.norm(smooth[source], axis=1, keepdims=True), 1e-12))
        .astype(np.float32),
        parent=np.repeat(np.arange(f), len(triangles)),
        corner_weights=np.tile(weights[triangles], (f, 1, 1)),
        vertex_face=face_of[source],
        vertex_weights=point_weights[source])
