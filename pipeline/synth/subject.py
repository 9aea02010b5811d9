"""Subjects of the synthetic light stage: people from the anny head model (``head.py``)
with neck, shoulders and clothing, skin, eyes, brows, lips and a hair layer.

World coordinates: y up, the face looking along +z (EG3D's convention for faces),
``SCALE`` world units per metre, each subject placed so that FFHQ's alignment
centre (the eyes' midpoint moved a tenth of the way towards the mouth) lies at the
origin, where every camera looks.

The surface is one triangle mesh (the anny head, whose eyeballs, eye sockets and
mouth are separate parts, and the procedural torso) with a region per triangle:

- the head's regions come from anny's own segmentation of its UV layout (eyes,
  sockets, mouth and tongue) and from the 68 landmarks: the lips are the head's
  triangles inside the outer lip contour (points 48-59) in UV space;
- the torso is neck above a collar line (crew or V) and clothing below it and on
  the shoulders (``Collar``, decided per point for a smooth edge);
- brows are painted on the skin along the brow landmarks (17-26), not modelled.

Hair is a layer over the scalp: a shell of the head's triangles above a hairline,
pushed out along the vertex normals by the hair's thickness (which tapers to zero
at the hairline). A ray crossing the shell is covered by ``1 - exp(-density * L *
strands * soft)``, with L the path length inside the shell, ``strands`` the strand
texture (``hair.density``: noise fine across and long along the strands, which flow
from the crown) and ``soft`` the density profile: a few percent in the outer fuzz (a
few millimetres of stray strands), full below it; so the hair's edge, its hairline
and grazing views get fractional alpha (see ``raycast.hair_layer``). The layer is
shaded with Kajiya-Kay's strand highlight (``hair.kajiya_kay``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property

import numpy as np

from pipeline.io.datasets import LABELS
from pipeline.synth.head import HeadMesh, HeadModel, HeadRanges, neck_opening, with_torso
from pipeline.synth.head_landmarks import landmarks as head_landmarks
from pipeline.synth.head_landmarks import surface_landmarks
from pipeline.synth.long_hair import columns_for, curtain
from pipeline.synth.meshcast import MeshCaster, quiet_warp, vertex_normals
from pipeline.synth.subdivide import levels_for, pn_points, refine
from pipeline.synth.texture import fractal_noise

LABEL = {name: index for index, name in enumerate(LABELS)}

# World units per metre: the neutral head's FFHQ crop side, 2 max(2 |eye to eye|, 1.8 |eye to mouth|)
# = 0.243 m, fills EG3D's frame at the origin (RADIUS / FOCAL = 0.633 units).
SCALE = 2.6

REGIONS = ("skin", "lips", "mouth", "eye", "socket", "neck", "clothing", "hair")
REGION = {name: index for index, name in enumerate(REGIONS)}
# The label a region's pixels get (brows are painted on skin: ``shading`` labels them per point).
REGION_LABEL = np.array([LABEL[n] for n in ("skin", "lips", "lips", "eyes", "skin", "neck", "shoulders", "hair")])

HAIR_DENSITY = 1500.0  # optical depth per metre of hair at full strand density
HAIR_FUZZ_DENSITY = 0.03  # share of the full density in the outer fuzz (stray strands)
HAIR_FUZZ_RAMP = 0.002  # metres below the fuzz over which the density rises to full
MAX_FACET_PX = 0.75  # silhouette facets left by ``sample_subject``'s refinement (the ``synth.max_facet_px`` default)
CURTAIN_FUZZ = 0.0005  # metres of sparse fuzz on long hair's curtain: thin, so its full density starts within it
LONG_HAIR_SHARE = 0.45  # of subjects with hair, those whose hair falls below the head (``long_hair``)
LONG_HAIR_LENGTH = (-0.02, 0.25)  # metres below the chin its tips fall: from a jaw-length bob to past the shoulders
HEAD_AGE = (0.4, 0.95)  # anny's age (MakeHuman's scale: 0.5 is 25 years, 1 is 90): adults


@dataclass(frozen=True)
class SkinLook:
    tone: np.ndarray  # (3,) linear albedo before variation
    redness: float  # cheeks
    freckles: float  # 0: none
    oil: float  # specular strength of the T-zone (forehead, nose)
    seed: int  # of the solid textures


@dataclass(frozen=True)
class HairLook:
    colour: np.ndarray  # (3,) linear albedo
    thickness: float  # metres over the crown; 0: bald
    fuzz: float  # metres of sparse stray strands outside it
    forehead: float  # hairline height above the brows, metres
    temples: float  # how far the hairline recedes at the temples, metres
    nape: float  # hairline height above the chin at the back of the head, metres
    brows: float  # eyebrow density, 0 to 1
    seed: int  # of the hair's volume
    length: float | None = None  # long hair: metres its tips fall below the chin (None: short, the shell only)
    curtain: float = 0.0  # long hair: metres thick where it hangs free (``long_hair``)
    front: float = 1.4  # long hair: azimuth of its front edges (0: the face's direction, pi/2: the ears)


@dataclass(frozen=True)
class Subject:
    vertices: np.ndarray  # (V, 3) world
    faces: np.ndarray  # (F, 3)
    normals: np.ndarray  # (V, 3) unit vertex normals
    corner_uv: np.ndarray  # (F, 3, 2) texture coordinates of each triangle's corners (anny's layout; torso apart)
    region: np.ndarray  # (F,) index into REGIONS
    landmarks: np.ndarray  # (68, 3) world, iBUG order
    anchor: np.ndarray  # (3,) the head-local point (metres) at the world origin
    skin: SkinLook
    hair: HairLook
    iris: np.ndarray  # (3,) linear albedo
    clothing: np.ndarray  # (3,) linear albedo
    collar: Collar | None  # where clothing starts on the torso (None: wherever the regions say)
    eye_poles: np.ndarray  # (2, 3) world: the front pole of the right and left eyeball (the pupil's centre)
    shell_vertices: np.ndarray  # (S, 3) world: the hair shell's outer surface (empty: bald)
    shell_faces: np.ndarray  # (G, 3) into shell_vertices
    shell_normals: np.ndarray  # (S, 3) unit vertex normals of the shell
    shell_uv: np.ndarray  # (G, 3, 2) texture coordinates of the scalp under each shell triangle's corners
    shell_fuzz: np.ndarray  # (S,) metres of sparse outer fuzz under each shell vertex
    specular: np.ndarray  # (len(REGIONS),) Blinn-Phong strength per region
    exponent: np.ndarray  # (len(REGIONS),)
    texture: float = 1.0  # amplitude of the solid textures (0: flat albedo per region, for closed-form tests)
    phenotype: dict = field(default_factory=dict)
    actions: dict = field(default_factory=dict)

    @cached_property
    def body(self) -> MeshCaster:
        return MeshCaster(self.vertices, self.faces)

    @cached_property
    def shell(self) -> MeshCaster | None:
        return MeshCaster(self.shell_vertices, self.shell_faces) if len(self.shell_faces) else None

    @cached_property
    def face_normals(self) -> np.ndarray:
        return _face_normals(self.vertices, self.faces)

    @cached_property
    def shell_face_normals(self) -> np.ndarray:
        return _face_normals(self.shell_vertices, self.shell_faces)

    def local(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) in head-local metres (the frame the landmarks and textures use)."""
        return np.asarray(points) / SCALE + self.anchor

    @property
    def local_landmarks(self) -> np.ndarray:
        return self.local(self.landmarks)


def _face_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    n = np.cross(b - a, c - a)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-20)


@dataclass(frozen=True)
class Topology:
    """What every head shares: regions, UVs and eyeballs of anny's head topology."""

    region: np.ndarray  # (F_head,) region of each head triangle (skin, lips, mouth, eye, socket)
    corner_uv: np.ndarray  # (F_head, 3, 2)
    eyes: tuple[np.ndarray, np.ndarray]  # vertex ids of the right and the left eyeball
    skin: np.ndarray  # (F_head,) bool: triangles of the head's outer surface


@cache
def topology() -> Topology:
    import scipy.sparse as sparse

    quiet_warp()  # anny initialises Warp when imported
    from anny.face_segmentation import get_face_segmentation_mask
    from scipy.sparse.csgraph import connected_components

    model = HeadModel()
    anny = model.model
    faces = model.faces

    def segment(*names: str) -> np.ndarray:
        return get_face_segmentation_mask(anny, list(names)).cpu().numpy()

    corner_uv = anny.texture_coordinates.cpu().numpy()[anny.face_texture_coordinate_indices.cpu().numpy()]
    region = np.full(len(faces), REGION["skin"], dtype=np.int8)
    region[segment("mouth_cavity", "tongue")] = REGION["mouth"]
    region[segment("eye_cavity.R", "eye_cavity.L")] = REGION["socket"]
    # Eyeballs: the small closed parts apart from the tongue (anny's segmentation of the right eye is partial).
    count = faces.max() + 1
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    graph = sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(count, count))
    _, component = connected_components(graph, directed=False)
    face_component = component[faces[:, 0]]
    sizes = np.bincount(face_component)
    outer = int(np.argmax(sizes))
    tongue = np.unique(face_component[segment("tongue")])
    eye_parts = [c for c in range(len(sizes)) if c != outer and c not in tongue]
    if len(eye_parts) != 2:
        raise RuntimeError(f"expected two eyeballs in anny's head, found {len(eye_parts)} small parts")
    for c in eye_parts:
        region[face_component == c] = REGION["eye"]
    vertices = model.mesh({name: 0.5 for name in model.phenotype_labels}, {}).vertices
    eyes = sorted((np.unique(faces[face_component == c]) for c in eye_parts), key=lambda ids: vertices[ids, 0].mean())
    # Lips: the outer surface's triangles inside the outer lip contour, in UV space.
    lm_faces, lm_weights = surface_landmarks()
    landmark_uv = np.einsum("nk,nkd->nd", lm_weights, corner_uv[lm_faces])
    centroids = corner_uv.mean(axis=1)
    skin = (face_component == outer) & (region == REGION["skin"])
    region[skin & inside_polygon(centroids, landmark_uv[48:60])] = REGION["lips"]
    return Topology(region=region, corner_uv=corner_uv.astype(np.float32), eyes=(eyes[0], eyes[1]),
                    skin=skin)


def inside_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Whether 2D points (N, 2) lie inside a closed polygon (K, 2) (even-odd rule)."""
    x, y = points[:, 0:1], points[:, 1:2]
    a, b = polygon, np.roll(polygon, -1, axis=0)
    crosses = (a[:, 1] > y) != (b[:, 1] > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    return (np.sum(crosses & (x < at), axis=1) % 2) == 1


def skin_tone(rng: np.random.Generator) -> np.ndarray:
    """Linear skin albedo from very light to very dark, hue varying a little."""
    darkness = rng.uniform(0.0, 1.0)
    light, dark = np.array([0.62, 0.43, 0.34]), np.array([0.12, 0.065, 0.045])
    return (light * (1 - darkness) + dark * darkness) * rng.uniform(0.93, 1.07, 3)


HAIR_COLOURS = np.array([[0.02, 0.015, 0.01], [0.06, 0.035, 0.02], [0.12, 0.06, 0.03], [0.35, 0.22, 0.1],
                         [0.45, 0.2, 0.08], [0.5, 0.45, 0.4]])


def sample_looks(rng: np.random.Generator, age: float) -> tuple[SkinLook, HairLook, np.ndarray, np.ndarray]:
    tone = skin_tone(rng)
    skin = SkinLook(tone=tone, redness=float(rng.uniform(0.0, 1.0)),
                    freckles=float(rng.uniform(0.3, 1.0) if rng.uniform() < 0.25 else 0.0),
                    oil=float(rng.uniform(0.05, 0.12)), seed=int(rng.integers(2**31)))
    grey = np.clip((age - 0.6) / 0.35, 0.0, 1.0) * rng.uniform()  # older people greyer, some
    colour = HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))] * rng.uniform(0.75, 1.2)
    colour = colour * (1 - grey) + np.array([0.45, 0.43, 0.42]) * grey
    bald = rng.uniform() < 0.06
    long = not bald and rng.uniform() < LONG_HAIR_SHARE
    hair = HairLook(colour=colour, thickness=0.0 if bald else float(rng.uniform(0.008, 0.045)),
                    fuzz=float(rng.uniform(0.003, 0.009)),
                    forehead=float(rng.uniform(0.045, 0.075)), temples=float(rng.uniform(0.0, 0.025)),
                    nape=float(rng.uniform(0.0, 0.04)), brows=float(rng.uniform(0.5, 1.0)),
                    seed=int(rng.integers(2**31)),
                    length=float(rng.uniform(*LONG_HAIR_LENGTH)) if long else None,
                    curtain=float(rng.uniform(0.008, 0.02)) if long else 0.0,
                    front=float(rng.uniform(1.2, 1.75)) if long else 1.4)
    iris = np.array(rng.choice([[0.09, 0.05, 0.025], [0.05, 0.035, 0.02], [0.08, 0.12, 0.2], [0.07, 0.1, 0.05]]))
    clothing = rng.uniform(0.02, 0.6, 3)
    return skin, hair, iris, clothing


REGION_SPECULAR = {"skin": (0.04, 25.0), "lips": (0.15, 60.0), "mouth": (0.2, 40.0), "eye": (0.6, 400.0),
                   "socket": (0.04, 20.0), "neck": (0.05, 20.0), "clothing": (0.02, 6.0), "hair": (0.12, 150.0)}
# hair's pair is its Kajiya-Kay highlight's (``hair.kajiya_kay``), a power of sin(T, H)


def hair_coverage(local: np.ndarray, marks: np.ndarray, look: HairLook) -> np.ndarray:
    """How much hair (V,) in [0, 1] grows at head-local points (V, 3): above a hairline that runs
    from the forehead over the temples, above the ears and down to the nape; none on the ears."""
    brow, chin = marks[17:27, 1].mean(), marks[8, 1]
    angle = np.abs(np.arctan2(local[:, 0], local[:, 2]))  # 0 at the front, pi at the back
    knots = np.array([0.0, 0.8, 1.3, 1.75, 2.3, np.pi])
    heights = np.array([brow + look.forehead, brow + look.forehead - look.temples, brow + 0.012, brow + 0.008,
                        chin + 0.03 + look.nape, chin + 0.01 + look.nape])
    line = np.interp(angle, knots, heights)
    coverage = np.clip((local[:, 1] - line) / 0.01, 0.0, 1.0)
    tragus = marks[[0, 16]]
    ear = ((np.abs(local[:, 0]) > np.abs(tragus[:, 0]).mean() + 0.002)
           & (np.abs(local[:, 1] - (tragus[:, 1].mean() - 0.005)) < 0.04)
           & (np.abs(local[:, 2] - (tragus[:, 2].mean() - 0.02)) < 0.03))
    return np.where(ear, 0.0, coverage)


def hair_shell(head: HeadMesh, marks: np.ndarray, look: HairLook, skin: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(outer vertices (V, 3) head-local, triangles (G, 3), their body triangles (G,), the depth of
    the sparse outer fuzz at each vertex (V,), metres) of the hair shell."""
    if look.thickness <= 0:
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int32), np.zeros(0, np.int64), np.zeros(0, np.float32)
    coverage = hair_coverage(head.vertices, marks, look)
    top = np.clip(head.normals[:, 1], 0.0, 1.0)
    clumps = 1.0 + 0.4 * fractal_noise(head.vertices, 0.025, look.seed, octaves=2)  # uneven volume, not a cap
    fuzz = look.fuzz * coverage
    offset = look.thickness * coverage * (0.55 + 0.45 * top) * clumps + fuzz
    outer = head.vertices + head.normals * offset[:, None]
    chosen = np.flatnonzero(skin & (coverage[head.faces].max(axis=1) > 0))
    return outer.astype(np.float32), head.faces[chosen], chosen, fuzz.astype(np.float32)


def hair_curtain(body: HeadMesh, shell: np.ndarray, shell_faces: np.ndarray, shell_uv: np.ndarray, marks: np.ndarray,
                 look: HairLook, pixel: float | None, max_px: float) -> tuple[np.ndarray, ...] | None:
    """Long hair's curtain (``long_hair``) as more of the hair shell: (vertices, triangles, vertex
    normals, fuzz per vertex, texture coordinates per corner: those of the scalp nearest the top of
    each column), head-local metres; None for short hair. ``pixel`` (world units, None: coarse) sets
    how finely it is built."""
    if look.length is None or not len(shell_faces):
        return None
    centre = shell.mean(axis=0)[[0, 2]]
    radius = float(np.hypot(shell[:, 0] - centre[0], shell[:, 2] - centre[1]).max())
    columns = columns_for(look.front, radius, None if pixel is None else pixel / SCALE, max_px)
    slab = curtain(MeshCaster(body.vertices, body.faces), MeshCaster(shell, shell_faces), centre,
                   brows=float(marks[17:27, 1].mean()), chin=float(marks[8, 1]), length=look.length,
                   thickness=look.curtain, front=look.front, seed=look.seed, columns=columns)
    tops = slab.vertices[len(slab.vertices) // 2:][:columns]  # the inner face's top row
    corners = shell[shell_faces].reshape(-1, 3)
    nearest = np.argmin(((tops[:, None, :] - corners[None, :, :]) ** 2).sum(axis=-1), axis=1)
    column_uv = shell_uv.reshape(-1, 2)[nearest]
    uv = column_uv[slab.column[slab.faces]]
    fuzz = np.full(len(slab.vertices), CURTAIN_FUZZ, np.float32)
    return slab.vertices, slab.faces, vertex_normals(slab.vertices, slab.faces), fuzz, uv.astype(np.float32)


@dataclass(frozen=True)
class Collar:
    """Where clothing starts on the torso (head-local metres): below a collar line round the neck
    (crew, or dipping at the front for a V), and everywhere wider than the neck (the shoulders)."""

    height: float  # of the collar line at the back and sides
    v_depth: float  # how far it dips at the front (0: a crew neck)
    centre: tuple[float, float]  # (x, z) of the neck's axis
    half: tuple[float, float]  # (x, z) half-extents of the neck
    shoulders: float = 1.35  # clothing beyond this multiple of the neck's extent

    def clothed(self, points: np.ndarray) -> np.ndarray:
        x, z = points[:, 0] - self.centre[0], points[:, 2] - self.centre[1]
        front = np.clip(np.cos(np.arctan2(x, z)), 0.0, 1.0)
        below = points[:, 1] < self.height - self.v_depth * front**6
        wide = np.hypot(x / self.half[0], z / self.half[1]) > self.shoulders
        return below | wide


def torso_regions(vertices: np.ndarray, faces: np.ndarray, collar: Collar) -> np.ndarray:
    """Neck or clothing: (F,) regions of the torso's triangles, by their centroids (``shading``
    decides again per point, for a smooth edge)."""
    clothed = collar.clothed(vertices[faces].mean(axis=1))
    return np.where(clothed, REGION["clothing"], REGION["neck"]).astype(np.int8)


def torso_uv(vertices: np.ndarray, faces: np.ndarray, top: float, bottom: float) -> np.ndarray:
    """(F, 3, 2) texture coordinates of the torso: a cylinder in the UV square's free corner
    (u in [0.01, 0.31], v in [0.01, 0.5], where anny's head layout has nothing)."""
    corners = vertices[faces]  # (F, 3, 3)
    angle = np.arctan2(corners[..., 0], corners[..., 2])
    # a triangle across the seam at the back takes its corners from one side
    angle = np.where((np.ptp(angle, axis=1, keepdims=True) > np.pi) & (angle < 0), angle + 2 * np.pi, angle)
    u = 0.01 + 0.3 * (angle + np.pi) / (3 * np.pi)
    v = 0.01 + 0.49 * np.clip((corners[..., 1] - bottom) / (top - bottom), 0.0, 1.0)
    return np.stack([u, v], axis=-1).astype(np.float32)


def smooth_body(body: HeadMesh, region: np.ndarray, corner_uv: np.ndarray, marks: np.ndarray, pixel: float,
                max_px: float) -> tuple[HeadMesh, np.ndarray, np.ndarray, np.ndarray]:
    """The body refined until its facets are under ``max_px`` pixels of ``pixel`` metres, with its
    triangles' regions and texture coordinates, and the 68 landmarks ``marks`` moved onto the smooth
    surface the refined triangles sample (from the coarse triangles under them)."""
    levels = levels_for(body.vertices, body.faces, body.normals, pixel, max_px)
    if not levels:
        return body, region, corner_uv, marks
    fine = refine(body.vertices, body.faces, body.normals, levels)
    faces, weights = surface_landmarks()
    corners = body.faces[faces]
    landmarks = pn_points(body.vertices[corners].astype(np.float64), body.normals[corners].astype(np.float64), weights)
    smooth = HeadMesh(vertices=fine.vertices, faces=fine.faces, normals=fine.normals, phenotype=body.phenotype,
                      actions=body.actions)
    return smooth, region[fine.parent], fine.per_corner(corner_uv), landmarks.astype(np.float32)


def smooth_shell(shell: np.ndarray, faces: np.ndarray, normals: np.ndarray, fuzz: np.ndarray, uv: np.ndarray,
                 pixel: float, max_px: float) -> tuple[np.ndarray, ...]:
    """The hair shell (vertices, triangles, vertex normals, fuzz per vertex, texture coordinates per
    corner) refined until its facets are under ``max_px`` pixels of ``pixel`` metres."""
    levels = levels_for(shell, faces, normals, pixel, max_px)
    if not levels:
        return shell, faces, normals, fuzz, uv
    fine = refine(shell, faces, normals, levels)
    return fine.vertices, fine.faces, fine.normals, fine.per_vertex(fuzz, faces), fine.per_corner(uv)


def sample_subject(rng: np.random.Generator, ranges: HeadRanges | None = None, pixel: float | None = None,
                   max_facet_px: float = MAX_FACET_PX) -> Subject:
    """A random person: head shape, expression, skin, hair, eyes, clothing, placed in world units.

    ``pixel``: world units per pixel at the subject in the render it is made for; the body and the
    hair shell are then refined (``subdivide``) until their silhouettes' facets are under
    ``max_facet_px`` pixels. None: the meshes as built. Refining draws nothing from ``rng``."""
    ranges = ranges or HeadRanges(age=HEAD_AGE)
    shared = topology()
    head = HeadModel().sample(rng, ranges)
    marks = head_landmarks(head)
    skin, hair, iris, clothing = sample_looks(rng, head.phenotype.get("age", 0.5))
    body = with_torso(head)
    torso_faces = body.faces[len(head.faces):]
    centre_y = head.vertices[:, 1].min()
    neck_centre, neck_half = neck_opening(head.vertices, head.faces)
    collar = Collar(height=centre_y - float(rng.uniform(0.01, 0.04)),
                    v_depth=float(rng.uniform(0.0, 0.06)) if rng.uniform() < 0.4 else 0.0,
                    centre=(float(neck_centre[0]), float(neck_centre[2])), half=(float(neck_half[0]), float(neck_half[2])))
    region = np.concatenate([shared.region, torso_regions(body.vertices, torso_faces, collar)])
    corner_uv = np.concatenate([shared.corner_uv, torso_uv(body.vertices, torso_faces, centre_y + 0.02,
                                                           body.vertices[:, 1].min())])
    shell, shell_faces, shell_source, shell_fuzz = hair_shell(head, marks, hair, shared.skin)
    shell_uv, shell_normals = corner_uv[shell_source], vertex_normals(shell, shell_faces)
    falls = hair_curtain(body, shell, shell_faces, shell_uv, marks, hair, pixel, max_facet_px)
    landmarks = marks
    if pixel is not None:
        body, region, corner_uv, landmarks = smooth_body(body, region, corner_uv, marks, pixel / SCALE, max_facet_px)
        shell, shell_faces, shell_normals, shell_fuzz, shell_uv = smooth_shell(
            shell, shell_faces, shell_normals, shell_fuzz, shell_uv, pixel / SCALE, max_facet_px)
    if falls is not None:
        shell, shell_faces, shell_normals, shell_fuzz, shell_uv = (
            np.concatenate([shell, falls[0]]), np.concatenate([shell_faces, falls[1] + len(shell)]),
            np.concatenate([shell_normals, falls[2]]), np.concatenate([shell_fuzz, falls[3]]),
            np.concatenate([shell_uv, falls[4]]))
    eyes = marks[36:42].mean(axis=0), marks[42:48].mean(axis=0)
    mouth = (marks[48] + marks[54]) / 2
    middle = (eyes[0] + eyes[1]) / 2
    anchor = middle + 0.1 * (mouth - middle)

    def world(points: np.ndarray) -> np.ndarray:
        return ((points - anchor) * SCALE).astype(np.float32)

    specular = np.array([REGION_SPECULAR[name][0] for name in REGIONS]) * rng.uniform(0.8, 1.25)
    exponent = np.array([REGION_SPECULAR[name][1] for name in REGIONS])
    return Subject(
        vertices=world(body.vertices), faces=body.faces, normals=body.normals, corner_uv=corner_uv, region=region,
        landmarks=world(landmarks), anchor=anchor.astype(np.float64), skin=skin, hair=hair, iris=iris, clothing=clothing,
        collar=collar,
        eye_poles=world(np.stack([head.vertices[ids[np.argmax(head.vertices[ids, 2])]] for ids in shared.eyes])),
        shell_vertices=world(shell), shell_faces=shell_faces.astype(np.int32), shell_normals=shell_normals,
        shell_uv=shell_uv,
        shell_fuzz=shell_fuzz,
        specular=specular, exponent=exponent, phenotype=head.phenotype, actions=head.actions)
