"""Human heads from the ``anny`` parametric model (code Apache-2.0; shapes from MakeHuman, CC0).

``anny``'s head topology (4,538 vertices, 9,014 triangles with eyes and the
mouth and eye cavities) is posed with six phenotype parameters (gender, age,
muscle, weight, height, proportions, each in [0, 1]) and 52 facial actions
(ARKit-style expression units, in [0, 1]). ``HeadModel.sample`` draws both and
returns the mesh in head-local coordinates: y up, the face looking along +z,
metres, centred on the head's bounding box (anny's own frame is z up, face
along -y).

The first build parses the MakeHuman assets (about 1.5 to 2.5 minutes on 2
cores) and caches them under ``$ANNY_CACHE_DIR`` (default ``~/.cache/anny``),
outside the repository: ``make install`` runs ``python -m pipeline.warm``,
which calls ``warm`` here (as ``python -m pipeline.synth.head --warm`` does), so
that neither ``make repro`` nor ``make test`` pays for it.
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from pipeline.synth.meshcast import MeshCaster, vertex_normals

# anny (x, y, z), z up and the face along -y  ->  head-local (x, z, -y): a rotation (determinant +1)
TO_HEAD_LOCAL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]], dtype=np.float32)

# Expressions: groups of facial actions that read as one (left and right together)
EXPRESSIONS: dict[str, tuple[str, ...]] = {
    "smile": ("mouthSmileLeft", "mouthSmileRight"),
    "open_mouth": ("jawOpen",),
    "frown": ("mouthFrownLeft", "mouthFrownRight", "browDownLeft", "browDownRight"),
    "raised_brows": ("browInnerUp", "browOuterUpLeft", "browOuterUpRight"),
    "squint": ("eyeSquintLeft", "eyeSquintRight", "cheekSquintLeft", "cheekSquintRight"),
    "pucker": ("mouthPucker",),
    "blink": ("eyeBlinkLeft", "eyeBlinkRight"),
}


@dataclass(frozen=True)
class HeadRanges:
    """What ``HeadModel.sample`` draws from (uniform in each range)."""

    phenotype: tuple[float, float] = (0.05, 0.95)  # every phenotype parameter
    age: tuple[float, float] | None = None  # anny's age apart (MakeHuman's scale: 0.5 is 25 years, 1 is 90)
    expressions: int = 2  # at most this many expressions at once (0 to this many, uniformly)
    strength: tuple[float, float] = (0.2, 0.9)  # each expression's strength


@dataclass(frozen=True)
class TorsoShape:
    """Neck and shoulders below the head (anny's head topology stops at the neck): a loft of
    rounded-rectangle sections whose half-width grows from the neck to the shoulders."""

    neck_length: float = 0.03  # metres from the centre of the head's neck opening to the shoulders
    shoulder_half_width: float = 0.2
    chest_half_depth: float = 0.11
    drop: float = 0.1  # how far below the neck the shoulders reach their full width
    depth: float = 0.45  # how far the torso reaches below the neck opening (out of a portrait's frame)
    squareness: float = 3.0  # superellipse exponent of the sections (2: ellipse)


@dataclass(frozen=True)
class HeadMesh:
    vertices: np.ndarray  # (V, 3) float32, head-local metres
    faces: np.ndarray  # (F, 3) int32
    normals: np.ndarray  # (V, 3) unit vertex normals (area-weighted)
    phenotype: dict[str, float] = field(default_factory=dict)
    actions: dict[str, float] = field(default_factory=dict)  # facial action -> strength
    head_vertices: int | None = None  # vertices [0, head_vertices) are the head, the rest neck and shoulders

    def caster(self) -> MeshCaster:
        return MeshCaster(self.vertices, self.faces)


@cache
def _anny_head():
    import torch

    from pipeline.synth.meshcast import quiet_warp

    quiet_warp()  # before anny loads its own kernels, so that Warp does not report every module load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import anny

        model = anny.Anny(rig="makehuman-head", topology="head", local_changes="default", facial_actions="all")
    return model.to(dtype=torch.float32).eval()


class HeadModel:
    """The anny head, built (or read from its cache) once per process."""

    def __init__(self):
        self.model = _anny_head()
        self.faces = self.model.faces.numpy().astype(np.int32)
        self.phenotype_labels = tuple(self.model.phenotype_labels)
        self.action_labels = tuple(self.model.facial_action_labels)
        missing = {a for actions in EXPRESSIONS.values() for a in actions} - set(self.action_labels)
        if missing:
            raise RuntimeError(f"anny's head has no facial actions {sorted(missing)}: a different anny version?")

    def mesh(self, phenotype: dict[str, float], actions: dict[str, float]) -> HeadMesh:
        """The head with these phenotype values and facial-action strengths, in head-local coordinates."""
        import torch

        unknown = (set(phenotype) - set(self.phenotype_labels)) | (set(actions) - set(self.action_labels))
        if unknown:
            raise KeyError(f"unknown head parameters {sorted(unknown)}")
        pose = torch.eye(4)[None, None].repeat(1, self.model.bone_count, 1, 1)
        with torch.no_grad():
            out = self.model(pose_parameters=pose, phenotype_kwargs=dict(phenotype), facial_actions=dict(actions))
        vertices = out["vertices"][0].numpy() @ TO_HEAD_LOCAL.T
        vertices = vertices - (vertices.min(axis=0) + vertices.max(axis=0)) / 2
        vertices = vertices.astype(np.float32)
        return HeadMesh(vertices=vertices, faces=self.faces, normals=vertex_normals(vertices, self.faces),
                        phenotype=dict(phenotype), actions=dict(actions))

    def sample(self, rng: np.random.Generator, ranges: HeadRanges = HeadRanges()) -> HeadMesh:
        """A random head: every phenotype parameter, and up to ``ranges.expressions`` expressions."""
        phenotype = {name: float(rng.uniform(*(ranges.age if name == "age" and ranges.age else ranges.phenotype)))
                     for name in self.phenotype_labels}
        chosen = rng.permutation(sorted(EXPRESSIONS))[: int(rng.integers(0, ranges.expressions + 1))]
        actions = {}
        for expression in chosen:
            strength = float(rng.uniform(*ranges.strength))
            actions.update({action: strength for action in EXPRESSIONS[expression]})
        return self.mesh(phenotype, actions)


def neck_loop(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Vertex ids (K,) of the head's open neck boundary, in order round the neck's axis (angle
    ``atan2(z, x)`` rising from 0, as ``torso`` lays out its rings)."""
    loops = _boundary_loops(np.ascontiguousarray(faces, dtype=np.int32).tobytes(), len(faces))
    loop = min(loops, key=lambda ids: float(vertices[ids, 1].mean()))  # the lowest: the neck, not an eye
    if len(loop) < 8 or vertices[loop, 1].mean() > vertices[:, 1].min() + 0.05:
        raise ValueError("the head mesh has no open neck at its bottom")
    centre = (vertices[loop].max(axis=0) + vertices[loop].min(axis=0)) / 2
    angle = np.arctan2(vertices[loop, 2] - centre[2], vertices[loop, 0] - centre[0])
    if np.sum(np.angle(np.exp(1j * np.diff(np.append(angle, angle[0]))))) < 0:
        loop, angle = loop[::-1], angle[::-1]
    first = int(np.argmin(np.mod(angle, 2 * np.pi)))
    return np.roll(loop, -first)


@cache
def _boundary_loops(faces_bytes: bytes, count: int) -> tuple[np.ndarray, ...]:
    """The closed loops of edges that belong to one triangle only (a topology's open boundaries),
    each as ordered vertex ids; computed once per topology."""
    faces = np.frombuffer(faces_bytes, dtype=np.int32).reshape(count, 3)
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    neighbours: dict[int, list[int]] = {}
    for a, b in unique[counts == 1].tolist():
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    loops, seen = [], set()
    for first in neighbours:
        if first in seen:
            continue
        loop, previous, current = [first], -1, first
        seen.add(first)
        while True:
            following = [v for v in neighbours[current] if v != previous]
            if not following or following[0] == first:
                break
            previous, current = current, following[0]
            loop.append(current)
            seen.add(current)
        loops.append(np.array(loop, dtype=np.int64))
    return tuple(loops)


def neck_opening(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centre (3,), half-extents (3,)) of the open boundary at the bottom of the head mesh."""
    ring = vertices[neck_loop(vertices, faces)]
    return (ring.max(axis=0) + ring.min(axis=0)) / 2, (ring.max(axis=0) - ring.min(axis=0)) / 2


def torso(vertices: np.ndarray, faces: np.ndarray, shape: TorsoShape, sections: int = 48,
          around: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Neck and shoulders (vertices, faces) stitched to a head mesh's neck opening: a loft that
    leaves the opening's own (oblique, irregular) rim, rounds into a superellipse tube, and flares
    into the shoulders. The faces index the head's vertices first, then the new ones (offset by
    ``len(vertices)``), so the head and the torso make one surface with no gap and no lip.
    ``sections`` x ``around`` is fine enough that the shoulders' silhouette shows no facets at
    the default 128 px: the flat triangles stray from the smooth surface by 0.38 px at the 99th
    percentile (1.69 px at 24 x 48; ``benchmarks/facets.py``), at no measurable render cost."""
    loop = neck_loop(vertices, faces)
    centre, half = neck_opening(vertices, faces)
    rim = vertices[loop].astype(np.float64)
    rim_angle = np.unwrap(np.arctan2(rim[:, 2] - centre[2], rim[:, 0] - centre[0]))
    rim_angle -= 2 * np.pi * np.floor(rim_angle[0] / (2 * np.pi))  # rising from [0, 2 pi), as ``neck_loop`` orders it
    angle = np.linspace(0, 2 * np.pi, around, endpoint=False)
    periodic = np.concatenate([rim_angle - 2 * np.pi, rim_angle, rim_angle + 2 * np.pi])
    rim_at = np.stack([np.interp(angle, periodic, np.tile(rim[:, k], 3)) for k in range(3)], axis=-1)  # (around, 3)

    cos, sin = np.cos(angle), np.sin(angle)
    power = 2.0 / shape.squareness
    ring_x, ring_z = np.sign(cos) * np.abs(cos) ** power, np.sign(sin) * np.abs(sin) ** power
    start = centre[1] - shape.neck_length
    levels = np.concatenate([start - shape.drop * np.linspace(0, 1, sections) ** 1.5, [start - shape.depth]])
    flare = np.clip((start - levels) / shape.drop, 0, 1)
    grow = 1 - (1 - flare) ** 2  # the trapezius slopes gently out from the neck, the deltoid rounds down
    half_x = half[0] + (shape.shoulder_half_width - half[0]) * grow
    half_z = half[2] + (shape.chest_half_depth - half[2]) * grow
    tube = np.stack([centre[0] + half_x[:, None] * ring_x, np.repeat(levels[:, None], around, axis=1),
                     centre[2] + half_z[:, None] * ring_z], axis=-1)  # (levels, around, 3)

    # from the rim down to the tube's first section: position eases from the rim's to the tube's
    t = np.linspace(0, 1, 6)[1:-1, None]  # (4, 1): four rings between the rim and the tube
    ease = t * t * (3 - 2 * t)
    blend = (1 - ease[..., None]) * rim_at + ease[..., None] * tube[0]
    blend[..., 1] = (1 - t) * rim_at[:, 1] + t * tube[0, :, 1]
    points = np.concatenate([blend, tube]).reshape(-1, 3)

    first = len(vertices)
    index = first + np.arange(len(points)).reshape(-1, around)
    upper, upper_next = index[:-1], np.roll(index[:-1], -1, axis=1)
    lower, lower_next = index[1:], np.roll(index[1:], -1, axis=1)
    grid = np.stack([np.stack([upper, upper_next, lower_next], -1), np.stack([upper, lower_next, lower], -1)], axis=2)
    seam = _zip_rings(loop, rim_angle, index[0], angle)
    return points.astype(np.float32), np.concatenate([seam, grid.reshape(-1, 3)]).astype(np.int32)


def _zip_rings(upper: np.ndarray, upper_angle: np.ndarray, lower: np.ndarray, lower_angle: np.ndarray) -> np.ndarray:
    """Triangles (K + M, 3) joining two closed rings of vertex ids (K,) and (M,) whose angles rise
    round the same axis: walk both in angle order, always advancing the ring whose next vertex
    comes first, so every triangle spans neighbouring angles."""
    up = np.append(upper_angle, upper_angle[0] + 2 * np.pi)
    down = np.append(lower_angle, lower_angle[0] + 2 * np.pi)
    triangles, i, j = [], 0, 0
    while i < len(upper) or j < len(lower):
        if j == len(lower) or (i < len(upper) and up[i + 1] <= down[j + 1]):
            triangles.append((upper[i], upper[(i + 1) % len(upper)], lower[j % len(lower)]))
            i += 1
        else:
            triangles.append((upper[i % len(upper)], lower[(j + 1) % len(lower)], lower[j]))
            j += 1
    return np.array(triangles, dtype=np.int64)


def torso_shape(head: HeadMesh) -> TorsoShape:
    """Neck and shoulders in proportion to the head: as wide as its width says (children's
    narrower), broader with anny's ``gender`` (0 female, 1 male) and ``muscle``."""
    scale = float(np.ptp(head.vertices[:, 0])) / 0.17  # an adult head is about 0.17 m wide
    build = 0.6 * head.phenotype.get("gender", 0.5) + 0.4 * head.phenotype.get("muscle", 0.5)
    return TorsoShape(neck_length=0.03 * scale, shoulder_half_width=(0.17 + 0.06 * build) * scale,
                      chest_half_depth=(0.095 + 0.03 * head.phenotype.get("weight", 0.5)) * scale, drop=0.1 * scale)


def with_torso(head: HeadMesh, shape: TorsoShape | None = None) -> HeadMesh:
    """``head`` with neck and shoulders appended (``torso_shape(head)`` unless given)."""
    if head.head_vertices is not None:
        raise ValueError("this head already has a torso")
    vertices, faces = torso(head.vertices, head.faces, shape or torso_shape(head))
    all_vertices = np.concatenate([head.vertices, vertices])
    all_faces = np.concatenate([head.faces, faces])
    normals = vertex_normals(all_vertices, all_faces)  # one surface: the seam shades smoothly
    return HeadMesh(vertices=all_vertices, faces=all_faces, normals=normals, phenotype=head.phenotype,
                    actions=head.actions, head_vertices=len(head.vertices))


def warm() -> None:
    """Build (or load) the head model and compile the ray-casting kernels: ``make install`` runs this."""
    head = HeadModel().sample(np.random.default_rng(0))
    caster = head.caster()
    caster.closest(np.zeros((1, 3)), np.array([[0.0, 0.0, 1.0]]))
    caster.occluded(np.zeros((1, 3)), np.array([[0.0, 0.0, 1.0]]))
    print(f"head model ready: {len(head.vertices):,} vertices, {len(head.faces):,} triangles")


def pixel_to_frame(pixels: np.ndarray, size: int, extent: float) -> np.ndarray:
    """Positions (N, 2) (x right, y up, metres) in an orthographic frame ``extent`` wide and
    ``size`` pixels across, centred on the origin, of pixel coordinates (N, 2) (x right, y down)."""
    return (np.asarray(pixels, dtype=np.float64) / size - 0.5) * extent * np.array([1.0, -1.0])


def frame_to_pixel(points: np.ndarray, size: int, extent: float) -> np.ndarray:
    """The inverse of ``pixel_to_frame``: pixel coordinates (N, 2) of frame positions (N, 2)."""
    return (np.asarray(points, dtype=np.float64) * np.array([1.0, -1.0]) / extent + 0.5) * size


def orthographic_rays(size: int, extent: float, yaw_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Rays (origins (size * size, 3), direction (3,)) through every pixel centre of an orthographic
    view from +z, turned by ``yaw_deg`` about y; origins 1 m in front of the origin, row-major."""
    yaw = np.radians(yaw_deg)
    right, forward = np.array([np.cos(yaw), 0.0, -np.sin(yaw)]), np.array([np.sin(yaw), 0.0, np.cos(yaw)])
    ys, xs = np.mgrid[:size, :size]
    frame = pixel_to_frame(np.column_stack([xs.ravel(), ys.ravel()]) + 0.5, size, extent)
    return frame[:, :1] * right + frame[:, 1:] * np.array([0.0, 1.0, 0.0]) + forward, -forward


def preview(head: HeadMesh, size: int = 128, yaw_deg: float = 0.0, light: tuple[float, float, float] = (0.5, 0.6, 0.8),
            extent: float = 0.34) -> np.ndarray:
    """A grey picture (size, size) of the head under one distant light, with cast shadows, through
    ``orthographic_rays``. For looking at draws, not for data."""
    origins, direction = orthographic_rays(size, extent, yaw_deg)
    forward = -direction
    caster = head.caster()
    hits = caster.closest(origins, np.tile(-forward, (len(origins), 1)))
    normals = caster.interpolate(hits, head.normals)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-9)
    direction = np.asarray(light, dtype=np.float64) / np.linalg.norm(light)
    points = origins - hits.t[:, None] * forward + 1e-4 * normals
    lit = ~caster.occluded(points, np.tile(direction, (len(points), 1)), 1.0)
    shade = 0.08 + 0.92 * np.clip(normals @ direction, 0.0, 1.0) * lit
    return np.where(hits.hit, shade, 0.0).reshape(size, size).astype(np.float32)


def contact_sheet(path: str, count: int = 8, seed: int = 0, size: int = 128, extent: float = 0.5) -> None:
    """``count`` random heads as one PNG: frontal with the 68 landmarks (red), and at 35 degrees of yaw."""
    import cv2

    from pipeline.synth.head_landmarks import landmarks

    model, rng = HeadModel(), np.random.default_rng(seed)
    columns = []
    for _ in range(count):
        head = with_torso(model.sample(rng))
        front = np.repeat(preview(head, size, extent=extent)[..., None] ** (1 / 2.2), 3, axis=-1)
        points = landmarks(head)
        pixels = np.floor(frame_to_pixel(points[:, :2], size, extent)).astype(int).clip(0, size - 1)
        front[pixels[:, 1], pixels[:, 0]] = (1.0, 0.1, 0.1)
        side = preview(head, size, yaw_deg=35.0, light=(-0.7, 0.3, 0.6), extent=extent) ** (1 / 2.2)
        columns.append(np.concatenate([front, np.repeat(side[..., None], 3, axis=-1)], axis=0))
    sheet = np.concatenate(columns, axis=1)
    cv2.imwrite(path, np.round(sheet[..., ::-1] * 255).astype(np.uint8))
    print(f"wrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The anny head model: build its cache and the ray-casting kernels.")
    parser.add_argument("--warm", action="store_true", help="build the model cache and compile the kernels")
    parser.add_argument("--sheet", help="write a contact sheet of random heads (PNG) to this path")
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.warm:
        warm()
    if args.sheet:
        contact_sheet(args.sheet, args.count, args.seed)
