"""Procedural head-and-shoulders subjects: a union of ellipsoid parts with materials.

Head-local coordinates: y up, the face looks along +z, the head's centre near
the origin (EG3D's convention for faces). Each part is an axis-aligned
ellipsoid with a semantic label, a diffuse albedo and a Blinn-Phong specular
strength and exponent; skin albedo varies smoothly over the surface. The hair
part is a cap ellipsoid kept only above a hairline (``hair_mask``); a soft,
strand-modulated fuzz layer around it gives fractional alpha (see raycast.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


from pipeline.io.datasets import LABELS, LANDMARKS  # the data contract: label ids and landmark order

LABEL = {name: index for index, name in enumerate(LABELS)}


@dataclass(frozen=True)
class Subject:
    names: tuple[str, ...]  # (K,) part names
    centres: np.ndarray  # (K, 3)
    radii: np.ndarray  # (K, 3)
    labels: np.ndarray  # (K,) int, into LABELS
    albedo: np.ndarray  # (K, 3) linear RGB, before spatial variation
    specular: np.ndarray  # (K,) Blinn-Phong strength
    exponent: np.ndarray  # (K,) Blinn-Phong exponent
    occluder: np.ndarray  # (K,) bool: casts shadows (tiny facial bumps do not)
    hairline: np.ndarray  # (3,) hairline heights at the front, side and back of the head
    skin_waves: np.ndarray  # (W, 4): direction (3) and phase of the albedo variation
    iris: np.ndarray  # (3,) linear iris colour
    fuzz: float  # thickness of the soft hair layer (world units)
    landmarks: np.ndarray  # (len(LANDMARKS), 3) on the surface

    def part(self, name: str) -> int:
        return self.names.index(name)


def _skin_tone(rng: np.random.Generator) -> np.ndarray:
    """Linear skin albedo from very light to very dark, hue varying a little."""
    darkness = rng.uniform(0.0, 1.0)
    light, dark = np.array([0.62, 0.43, 0.34]), np.array([0.12, 0.065, 0.045])
    return (light * (1 - darkness) + dark * darkness) * rng.uniform(0.93, 1.07, 3)


def sample_subject(rng: np.random.Generator) -> Subject:
    """A subject with random proportions, skin tone, hair colour, hairline and clothing."""
    s = rng.uniform(0.92, 1.08)  # overall head scale
    skin = _skin_tone(rng)
    hair = rng.choice([[0.02, 0.015, 0.01], [0.12, 0.06, 0.03], [0.35, 0.22, 0.1], [0.5, 0.45, 0.4]]) * rng.uniform(0.7, 1.2)
    lips = skin * np.array([1.1, 0.62, 0.62]) * rng.uniform(0.75, 0.95)
    eye_x, eye_y, eye_z = 0.047 * s * rng.uniform(0.95, 1.05), 0.025 * s, 0.112 * s
    eye_r = 0.021 * s
    mouth_y, mouth_w = -0.078 * s * rng.uniform(0.95, 1.05), 0.036 * s * rng.uniform(0.9, 1.1)
    jaw = np.array([0.11, 0.115, 0.115]) * s * rng.uniform(0.92, 1.08, 3)
    parts = [  # name, label, centre, radii, albedo, specular, exponent, occluder
        ("cranium", "skin", [0, 0.045 * s, -0.032 * s], np.array([0.146, 0.17, 0.158]) * s * rng.uniform(0.95, 1.05, 3), skin, 0.06, 25, True),
        ("jaw", "skin", [0, -0.055 * s, 0.032 * s], jaw, skin, 0.05, 25, True),
        ("nose", "skin", [0, -0.012 * s, 0.128 * s], np.array([0.021, 0.05, 0.042]) * s * rng.uniform(0.85, 1.2, 3), skin, 0.1, 35, True),
        ("ear_r", "skin", [-0.147 * s, 0.0, -0.012], np.array([0.018, 0.045, 0.03]) * s, skin, 0.04, 20, True),
        ("ear_l", "skin", [0.147 * s, 0.0, -0.012], np.array([0.018, 0.045, 0.03]) * s, skin, 0.04, 20, True),
        ("eye_r", "eyes", [-eye_x, eye_y, eye_z], [eye_r] * 3, [0.75, 0.72, 0.7], 0.5, 300, False),
        ("eye_l", "eyes", [eye_x, eye_y, eye_z], [eye_r] * 3, [0.75, 0.72, 0.7], 0.5, 300, False),
        ("brow_r", "brows", [-eye_x, eye_y + 0.034 * s, eye_z + 0.008 * s], [0.028 * s, 0.007 * s, 0.014 * s], hair, 0.03, 10, False),
        ("brow_l", "brows", [eye_x, eye_y + 0.034 * s, eye_z + 0.008 * s], [0.028 * s, 0.007 * s, 0.014 * s], hair, 0.03, 10, False),
        ("lip_upper", "lips", [0, mouth_y + 0.008 * s, 0.137 * s], [mouth_w, 0.009 * s, 0.02 * s], lips, 0.15, 60, False),
        ("lip_lower", "lips", [0, mouth_y - 0.009 * s, 0.133 * s], [mouth_w * 0.9, 0.011 * s, 0.02 * s], lips, 0.15, 60, False),
        ("hair", "hair", [0, 0.055 * s, -0.038 * s], np.array([0.156, 0.178, 0.17]) * s * rng.uniform(1.0, 1.06, 3), hair, 0.12, 12, True),
        ("neck", "neck", [0, -0.2, -0.025], [0.068 * s, 0.15, 0.07 * s], skin, 0.04, 20, True),
        ("shoulders", "shoulders", [0, -0.415, -0.03], np.array([0.41, 0.13, 0.19]) * rng.uniform(0.88, 1.08, 3), rng.uniform(0.04, 0.6, 3), 0.02, 6, True),
    ]
    names = tuple(p[0] for p in parts)
    centres = np.array([p[2] for p in parts], dtype=np.float64)
    radii = np.array([p[3] for p in parts], dtype=np.float64)
    subject = Subject(
        names=names, centres=centres, radii=radii,
        labels=np.array([LABEL[p[1]] for p in parts]),
        albedo=np.clip(np.array([p[4] for p in parts], dtype=np.float64), 0.005, 0.95),
        specular=np.array([p[5] for p in parts], dtype=np.float64) * rng.uniform(0.7, 1.3),
        exponent=np.array([p[6] for p in parts], dtype=np.float64),
        occluder=np.array([p[7] for p in parts]),
        hairline=np.array([0.075, -0.02, -0.13]) * s + rng.uniform(-0.025, 0.025, 3),
        skin_waves=np.concatenate([rng.normal(size=(4, 3)) * 18, rng.uniform(0, 2 * np.pi, (4, 1))], axis=1),
        iris=np.array(rng.choice([[0.09, 0.05, 0.025], [0.05, 0.035, 0.02], [0.08, 0.12, 0.2], [0.07, 0.1, 0.05]])),
        fuzz=float(rng.uniform(0.014, 0.026)) * s,
        landmarks=np.zeros((len(LANDMARKS), 3)),
    )
    return _with_landmarks(subject)


def _surface_point(subject: Subject, part: str, direction) -> np.ndarray:
    """The point of a part's ellipsoid surface in (unit) ``direction`` from its centre."""
    k = subject.part(part)
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    return subject.centres[k] + d / np.linalg.norm(d / subject.radii[k])


def _front_point(subject: Subject, x: float, y: float) -> np.ndarray:
    """The frontmost point (largest z) of the face's parts at the given x and y."""
    z = -np.inf
    for k, name in enumerate(subject.names):
        if name == "hair":
            continue
        c, r = subject.centres[k], subject.radii[k]
        inside = 1.0 - ((x - c[0]) / r[0]) ** 2 - ((y - c[1]) / r[1]) ** 2
        if inside > 0:
            z = max(z, c[2] + r[2] * np.sqrt(inside))
    return np.array([x, y, z])


def _with_landmarks(subject: Subject) -> Subject:
    """Eye corners, nose tip, mouth corners and chin, on the surface."""
    eye = subject.centres[subject.part("eye_l")]
    eye_r = subject.radii[subject.part("eye_l"), 0]
    lip = subject.part("lip_upper")
    mouth_x, mouth_y = subject.radii[lip, 0] * 0.95, subject.centres[lip, 1] - 0.006
    points = [
        _front_point(subject, -eye[0] - 0.9 * eye_r, eye[1]), _front_point(subject, -eye[0] + 0.9 * eye_r, eye[1]),
        _front_point(subject, eye[0] - 0.9 * eye_r, eye[1]), _front_point(subject, eye[0] + 0.9 * eye_r, eye[1]),
        _surface_point(subject, "nose", [0, -0.3, 1]),
        _front_point(subject, -mouth_x, mouth_y), _front_point(subject, mouth_x, mouth_y),
        _surface_point(subject, "jaw", [0, -0.75, 0.66]),
    ]
    return Subject(**{**subject.__dict__, "landmarks": np.array(points)})


def hair_mask(subject: Subject, points: np.ndarray) -> np.ndarray:
    """Whether points (N, 3) on the hair cap lie above the hairline (front, side, back)."""
    k = subject.part("hair")
    local = (points - subject.centres[k]) / subject.radii[k]
    front, side, back = subject.hairline
    z = np.clip(local[:, 2], -1, 1)
    height = np.where(z > 0, side + (front - side) * z, side + (back - side) * (-z))
    return points[:, 1] > height


def skin_variation(subject: Subject, points: np.ndarray) -> np.ndarray:
    """Smooth multiplicative albedo variation (N, 3) over the surface: mottling and flushed cheeks."""
    waves = np.sin(points @ subject.skin_waves[:, :3].T + subject.skin_waves[:, 3]).mean(axis=1)
    variation = 1.0 + 0.12 * waves[:, None] * np.array([1.0, 1.1, 1.2])
    for side in (-1, 1):
        cheek = np.array([0.065 * side, -0.03, 0.1])
        flush = np.exp(-np.sum((points - cheek) ** 2, axis=1) / (2 * 0.025 ** 2))
        variation *= 1.0 + flush[:, None] * np.array([0.12, -0.1, -0.1])
    return variation
