"""Ray casting against triangle meshes through a BVH (NVIDIA Warp's ``wp.Mesh``).

Warp because it builds and traverses a BVH on the CPU and on CUDA with the same
kernels, it is what the head model (``anny``) already depends on, and its
kernels compile once into a cache outside the repository (``make install``
warms it). A hit is reported as the distance along the ray, the triangle and
the barycentric weights of its three corners, so that any per-vertex quantity
(normals, UVs, labels) can be interpolated at the hit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np


def quiet_warp() -> None:
    """Silence Warp's start-up and module-load messages, and compile its CPU kernels for
    x86-64-v3 rather than the host CPU (``pipeline/portable.py``); call before anything loads a
    Warp module."""
    import logging

    import warp as wp

    from pipeline.portable import warp_cpu_flags

    wp.config.log_level = logging.ERROR
    wp.config.cpu_compiler_flags = warp_cpu_flags(wp.config.cpu_compiler_flags or "-march=native")  # idempotent


@cache
def _warp():
    import warp as wp

    quiet_warp()
    wp.init()
    return wp


@cache
def _kernels():
    wp = _warp()

    @wp.kernel
    def closest(mesh: wp.uint64, origins: wp.array(dtype=wp.vec3), directions: wp.array(dtype=wp.vec3), max_t: float,
                t: wp.array(dtype=float), face: wp.array(dtype=int), bary: wp.array(dtype=wp.vec3)):
        i = wp.tid()
        query = wp.mesh_query_ray(mesh, origins[i], directions[i], max_t)
        if query.result:
            t[i] = query.t
            face[i] = query.face
            bary[i] = wp.vec3(query.u, query.v, 1.0 - query.u - query.v)
        else:
            t[i] = -1.0
            face[i] = -1

    @wp.kernel
    def blocked(mesh: wp.uint64, origins: wp.array(dtype=wp.vec3), directions: wp.array(dtype=wp.vec3), max_t: float,
                hit: wp.array(dtype=wp.int8)):
        i = wp.tid()
        hit[i] = wp.int8(0)
        if wp.mesh_query_ray_anyhit(mesh, origins[i], directions[i], max_t):
            hit[i] = wp.int8(1)

    @wp.kernel
    def nearest(mesh: wp.uint64, points: wp.array(dtype=wp.vec3), max_distance: float, distance: wp.array(dtype=float)):
        i = wp.tid()
        query = wp.mesh_query_point_no_sign(mesh, points[i], max_distance)
        distance[i] = max_distance
        if query.result:
            distance[i] = wp.length(wp.mesh_eval_position(mesh, query.face, query.u, query.v) - points[i])

    return closest, blocked, nearest


@dataclass(frozen=True)
class Hits:
    t: np.ndarray  # (N,) distance along the (unit) ray; -1 where nothing was hit
    face: np.ndarray  # (N,) triangle index; -1 where nothing was hit
    weights: np.ndarray  # (N, 3) barycentric weights of the triangle's corners (0 where nothing was hit)

    @property
    def hit(self) -> np.ndarray:
        return self.face >= 0


class MeshCaster:
    """A triangle mesh (vertices (V, 3), faces (F, 3)) with its BVH, ready for ray queries."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, device: str = "cpu"):
        wp = _warp()
        self.faces = np.ascontiguousarray(faces, dtype=np.int32)
        if self.faces.ndim != 2 or self.faces.shape[1] != 3:
            raise ValueError(f"faces must be (F, 3) triangles, got {self.faces.shape}")
        self.device = device
        self._points = wp.array(np.ascontiguousarray(vertices, dtype=np.float32), dtype=wp.vec3, device=device)
        self._indices = wp.array(self.faces.ravel(), dtype=int, device=device)
        self._mesh = wp.Mesh(points=self._points, indices=self._indices)

    def _rays(self, origins: np.ndarray, directions: np.ndarray):
        wp = _warp()
        origins = np.ascontiguousarray(origins, dtype=np.float32).reshape(-1, 3)
        directions = np.ascontiguousarray(directions, dtype=np.float32).reshape(-1, 3)
        if origins.shape != directions.shape:
            raise ValueError(f"origins {origins.shape} and directions {directions.shape} differ")
        return (wp.array(origins, dtype=wp.vec3, device=self.device),
                wp.array(directions, dtype=wp.vec3, device=self.device), len(origins))

    def closest(self, origins: np.ndarray, directions: np.ndarray, max_t: float = 1e6) -> Hits:
        """The nearest hit of each ray (directions of unit length, so that t is a distance)."""
        wp = _warp()
        o, d, n = self._rays(origins, directions)
        t = wp.empty(n, dtype=float, device=self.device)
        face = wp.empty(n, dtype=int, device=self.device)
        bary = wp.zeros(n, dtype=wp.vec3, device=self.device)
        wp.launch(_kernels()[0], dim=n, inputs=[self._mesh.id, o, d, float(max_t), t, face, bary], device=self.device)
        face = face.numpy()
        return Hits(t=t.numpy(), face=face, weights=np.where(face[:, None] >= 0, bary.numpy(), 0.0).astype(np.float32))

    def occluded(self, origins: np.ndarray, directions: np.ndarray, max_t: float = 1e6) -> np.ndarray:
        """Whether anything lies on each ray within ``max_t`` (shadow rays: any hit, not the nearest)."""
        wp = _warp()
        o, d, n = self._rays(origins, directions)
        hit = wp.empty(n, dtype=wp.int8, device=self.device)
        wp.launch(_kernels()[1], dim=n, inputs=[self._mesh.id, o, d, float(max_t), hit], device=self.device)
        return hit.numpy().astype(bool)

    def distance(self, points: np.ndarray, max_distance: float = 1e6) -> np.ndarray:
        """Distance (N,) from each point to the nearest point of the surface (``max_distance`` where
        nothing lies closer)."""
        wp = _warp()
        p = wp.array(np.ascontiguousarray(points, dtype=np.float32).reshape(-1, 3), dtype=wp.vec3, device=self.device)
        out = wp.empty(len(p), dtype=float, device=self.device)
        wp.launch(_kernels()[2], dim=len(p), inputs=[self._mesh.id, p, float(max_distance), out], device=self.device)
        return out.numpy()

    def interpolate(self, hits: Hits, per_vertex: np.ndarray) -> np.ndarray:
        """A per-vertex quantity (V, ...) at each hit (N, ...), zero where nothing was hit."""
        corners = per_vertex[self.faces[np.maximum(hits.face, 0)]]  # (N, 3, ...)
        weights = hits.weights.reshape(hits.weights.shape + (1,) * (per_vertex.ndim - 1))
        return np.sum(corners * weights, axis=1)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unit vertex normals (V, 3): the area-weighted mean of the adjacent faces' normals."""
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    face_normals = np.cross(b - a, c - a)  # length = twice the area: the weighting
    corners = faces.T.reshape(-1)  # each face's first corners, then second, then third: np.add.at's order
    weights = np.tile(face_normals, (3, 1))
    normals = np.stack([np.bincount(corners, weights[:, c], minlength=len(vertices)) for c in range(3)], axis=1)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return (normals / np.maximum(length, 1e-12)).astype(np.float32)
