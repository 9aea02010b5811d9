"""Materials and reflectance shared by every rendering path (OLAT stacks, direct environment
lighting, the face set): Lambertian albedo / pi plus normalised Blinn-Phong
(e + 8) / (8 pi) (n.h)^e, times n.l and visibility, for a distant light of unit
irradiance. Because all paths call ``shade``, relighting from OLATs and direct
integration of an environment agree up to the discretisation of directions.

Materials (``make_surface``) are solid textures in head-local metres, so they do
not swim between views: skin has a tone from very light to very dark with
mottling, pores and, for some, freckles, redder cheeks and lips, and an oily
T-zone (forehead and nose) of stronger specular; brows are painted along the
brow landmarks; eyes have an iris and a pupil and a wet, sharp highlight; hair
darkens the scalp under it, and its strands flow from the crown with Kajiya-Kay
highlights (``hair.py``); clothing is matte with a weave.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.synth.hair import kajiya_kay, lobes, Lobes, strands as hair_strands
from pipeline.synth.raycast import visibility
from pipeline.synth.subject import LABEL, REGION, REGION_LABEL, Subject, hair_coverage
from pipeline.synth.texture import fractal_noise, smoothstep, value_noise

IRIS_RADIUS, PUPIL_RADIUS = 0.0058, 0.0022  # metres, across the eye's front
BROW_HALF_WIDTH = 0.006  # metres, about the brow line (the landmarks, moved down by BROW_DROP)
BROW_DROP = 0.002
BROW_LABEL = 0.3  # brow cover above which a point is labelled brows


@dataclass(frozen=True)
class Surface:
    """Shading inputs of N surface samples."""

    points: np.ndarray  # (N, 3) world space
    normals: np.ndarray  # (N, 3) unit
    view: np.ndarray  # (N, 3) unit direction from the camera to the point
    albedo: np.ndarray  # (N, 3) linear
    specular: np.ndarray  # (N,)
    exponent: np.ndarray  # (N,)
    labels: np.ndarray  # (N,) int, into LABELS
    strands: Lobes | None = None  # the hair samples' Kajiya-Kay highlight (None: no hair)


def _segment_distance(points: np.ndarray, polyline: np.ndarray) -> np.ndarray:
    """Distance (N,) from points (N, 3) to a polyline (K, 3)."""
    best = np.full(len(points), np.inf)
    for a, b in zip(polyline[:-1], polyline[1:]):
        ab = b - a
        t = np.clip((points - a) @ ab / max(float(ab @ ab), 1e-12), 0.0, 1.0)
        best = np.minimum(best, np.linalg.norm(points - (a + t[:, None] * ab), axis=1))
    return best


def brow_hairs(subject: Subject, local: np.ndarray) -> np.ndarray:
    """Brow hair density (N,) in [0.25, 1] at head-local points: noise stretched along y."""
    stretched = local * np.array([1.0, 0.08, 1.0])
    fine = value_noise(stretched, 0.0012, subject.skin.seed + 11)
    coarse = value_noise(stretched, 0.004, subject.skin.seed + 13)
    return np.clip(0.62 + 0.25 * fine + 0.2 * coarse, 0.25, 1.0)


def brow_density(subject: Subject, local: np.ndarray) -> np.ndarray:
    """Eyebrow cover (N,) in [0, 1] at head-local points."""
    marks = subject.local_landmarks
    drop = np.array([0.0, BROW_DROP, 0.0])
    distance = np.minimum(_segment_distance(local, marks[17:22] - drop), _segment_distance(local, marks[22:27] - drop))
    return subject.hair.brows * (1.0 - smoothstep(0.6 * BROW_HALF_WIDTH, BROW_HALF_WIDTH, distance)) * brow_hairs(subject, local)


def skin_albedo(subject: Subject, local: np.ndarray) -> np.ndarray:
    """Skin albedo (N, 3) at head-local points: tone, mottling, pores, freckles, redder cheeks."""
    look, k = subject.skin, subject.texture
    marks = subject.local_landmarks
    variation = 1.0 + k * (0.07 * fractal_noise(local, 0.03, look.seed)[:, None] * np.array([1.0, 1.15, 1.3])
                           + 0.05 * value_noise(local, 0.0011, look.seed + 1)[:, None])
    for side in ((1, 31, 41), (15, 35, 46)):  # cheek centres between jaw, nose wing and lower eyelid
        cheek = marks[list(side)].mean(axis=0)
        flush = np.exp(-np.sum((local - cheek) ** 2, axis=1) / (2 * 0.018**2))
        variation = variation * (1.0 + k * look.redness * flush[:, None] * np.array([0.14, -0.08, -0.08]))
    if look.freckles > 0:
        spots = smoothstep(0.45, 0.8, value_noise(local, 0.0025, look.seed + 2))
        upper_face = np.exp(-np.sum((local - marks[29]) ** 2, axis=1) / (2 * 0.035**2))
        amount = k * look.freckles * spots * upper_face
        variation = variation * (1.0 - amount[:, None] * np.array([0.3, 0.42, 0.5]))
    return look.tone * variation


def t_zone(subject: Subject, local: np.ndarray) -> np.ndarray:
    """(N,) in [0, 1]: forehead and nose, where skin is oilier."""
    marks = subject.local_landmarks
    nose = np.exp(-(_segment_distance(local, marks[[27, 30]]) / 0.012) ** 2)
    forehead_centre = marks[27] + np.array([0.0, 0.035, -0.01])
    forehead = np.exp(-np.sum(((local - forehead_centre) / np.array([0.04, 0.02, 0.05])) ** 2, axis=1))
    return np.clip(nose + forehead, 0.0, 1.0)


def surface_materials(subject: Subject, region: np.ndarray, points: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(albedo (N, 3), specular (N,), exponent (N,), labels (N,)) of surface points in ``region``
    (the hair layer's albedo, zero here, comes with its strands in ``make_surface``)."""
    local = subject.local(points)
    n = len(points)
    torso = np.isin(region, [REGION["neck"], REGION["clothing"]])
    if subject.collar is not None and torso.any():  # the collar's edge per point, not per triangle
        region = region.copy()
        region[torso] = np.where(subject.collar.clothed(local[torso]), REGION["clothing"], REGION["neck"])
    albedo = np.zeros((n, 3))
    specular = subject.specular[region].astype(np.float64)
    exponent = subject.exponent[region].astype(np.float64)
    labels = REGION_LABEL[region].copy()
    hair = subject.hair
    skin = np.isin(region, [REGION["skin"], REGION["neck"], REGION["socket"]])
    if skin.any():
        tone = skin_albedo(subject, local[skin])
        own = region[skin]
        tone[own == REGION["socket"]] *= 0.45
        tone[own == REGION["neck"]] *= 0.96
        face = own == REGION["skin"]
        zone = t_zone(subject, local[skin][face])
        specular_skin = specular[skin]
        specular_skin[face] = specular_skin[face] * (1 - zone) + subject.skin.oil * zone
        specular[skin] = specular_skin
        brows = np.where(face, brow_density(subject, local[skin]), 0.0)
        scalp = np.where(face, hair_coverage(local[skin], subject.local_landmarks, hair), 0.0) if hair.thickness > 0 else 0.0
        cover = np.clip(brows + scalp, 0.0, 1.0)[:, None]
        tone = tone * (1 - cover) + 0.8 * hair.colour * cover
        albedo[skin] = tone
        labels_skin = labels[skin]
        labels_skin[brows > BROW_LABEL] = LABEL["brows"]
        labels[skin] = labels_skin
    lips = region == REGION["lips"]
    if lips.any():
        albedo[lips] = skin_albedo(subject, local[lips]) * np.array([1.12, 0.62, 0.64]) * 0.85
    mouth = region == REGION["mouth"]
    albedo[mouth] = np.array([0.3, 0.07, 0.07]) * (0.5 + subject.skin.tone / subject.skin.tone.max())
    eye = region == REGION["eye"]
    if eye.any():
        poles = subject.local(subject.eye_poles)
        lateral = np.min([np.linalg.norm((local[eye] - pole)[:, :2], axis=1) for pole in poles], axis=0)
        veins = 1 - 0.06 * subject.texture * (value_noise(local[eye], 0.002, 5) + 1)
        fibres = 1 + 0.35 * subject.texture * value_noise(local[eye] * np.array([1, 1, 0]), 0.0008, 7)
        colour = np.where((lateral < IRIS_RADIUS)[:, None], subject.iris * fibres[:, None],
                          np.array([0.72, 0.69, 0.66]) * veins[:, None])
        albedo[eye] = np.where((lateral < PUPIL_RADIUS)[:, None], 0.01, colour)
    cloth = region == REGION["clothing"]
    if cloth.any():
        weave = value_noise(local[cloth] * np.array([1.0, 4.0, 1.0]), 0.002, subject.skin.seed + 3)
        albedo[cloth] = subject.clothing * (1 + 0.08 * subject.texture * weave)[:, None]
    return np.clip(albedo, 0.0, 0.95), specular, exponent, labels


def make_surface(subject: Subject, region: np.ndarray, points: np.ndarray, normals: np.ndarray, view: np.ndarray) -> Surface:
    albedo, specular, exponent, labels = surface_materials(subject, region, points)
    on_hair = region == REGION["hair"]
    if not on_hair.any():
        return Surface(points=points, normals=normals, view=view, albedo=albedo, specular=specular, exponent=exponent,
                       labels=labels)
    rows = np.flatnonzero(on_hair)
    shine, sparkle, tangents = hair_strands(subject.local(points[rows]), normals[rows], subject.hair.seed)
    colour = subject.hair.colour
    albedo[rows] = np.clip(colour * (0.3 + 0.7 * shine)[:, None] if subject.texture else colour, 0.0, 0.95)
    return Surface(points=points, normals=normals, view=view, albedo=albedo, specular=specular, exponent=exponent,
                   labels=labels, strands=lobes(rows, tangents, normals[rows], albedo[rows], specular[rows], exponent[rows], sparkle))


def shade(subject: Subject, surface: Surface, light: np.ndarray, shadows: bool = True,
          visible: np.ndarray | None = None) -> np.ndarray:
    """Radiance (N, 3) towards the camera under a unit-irradiance distant light from ``light`` (3,).
    ``visible`` (N,) is the light's visibility from ``light_visibility``; without it the shadow
    rays are cast here."""
    cosine = np.clip(surface.normals @ light, 0.0, None)
    lit = (cosine > 0).astype(np.float64)
    if visible is not None:
        lit *= visible
    elif shadows and lit.any():
        facing = lit > 0
        lit[facing] = visibility(subject, surface.points[facing], surface.normals[facing], light)
    half = light - surface.view
    half /= np.maximum(np.linalg.norm(half, axis=1, keepdims=True), 1e-12)  # zero when lit from straight behind
    n_dot_h = np.clip(np.einsum("ij,ij->i", surface.normals, half), 0.0, None)
    lobe = surface.specular * (surface.exponent + 8.0) / (8.0 * np.pi) * n_dot_h**surface.exponent
    brdf = surface.albedo / np.pi + lobe[:, None]
    if surface.strands is not None:  # hair: Kajiya-Kay's band instead of Blinn-Phong's spot
        rows = surface.strands.rows
        brdf[rows] = surface.albedo[rows] / np.pi + kajiya_kay(surface.strands, half[rows])
    return brdf * (cosine * lit)[:, None]



def light_visibility(subject: Subject, surface: Surface, lights: np.ndarray, rays_per_call: int = 1 << 19):
    """Yield the visibility (N,) of the surface's points under each light (J, 3), in order: the
    numbers ``shade`` would cast light by light, with the shadow rays of as many lights as fit in
    ``rays_per_call`` cast together (a few large ray casts instead of many small ones; 0: one
    light at a time)."""
    facing = [np.flatnonzero(np.clip(surface.normals @ light, 0.0, None) > 0) for light in lights]
    start = 0
    while start < len(lights):
        stop, rays = start + 1, len(facing[start])
        while stop < len(lights) and rays + len(facing[stop]) <= rays_per_call:
            rays += len(facing[stop])
            stop += 1
        points = np.concatenate(facing[start:stop])
        directions = np.repeat(lights[start:stop], [len(ids) for ids in facing[start:stop]], axis=0)
        seen = visibility(subject, surface.points[points], surface.normals[points], directions) if rays else np.zeros(0)
        offset = 0
        for j in range(start, stop):
            visible = np.zeros(len(surface.normals))
            visible[facing[j]] = seen[offset: offset + len(facing[j])]
            offset += len(facing[j])
            yield visible
        start = stop
