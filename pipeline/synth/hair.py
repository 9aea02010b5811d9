"""How hair looks: strands that flow from the crown, and their anisotropic highlights.

Hair is combed away from a crown on the top of the back of the head, so at every
head-local point its strands run along the meridian of a sphere whose pole is the
crown (``flow``). The strand texture (density for the layer's opacity, brightness
for its albedo) is noise that is fine across that direction and long along it, and
the highlight is Kajiya and Kay's (1989): a strand is a thin cylinder, so it
reflects in a cone about its tangent T, and the lobe is a power of sin(T, H), a
band across the strands instead of the round spot a Blinn-Phong shell gives (which
made the hair read as a helmet). As in Scheuermann's practical model, two lobes: a
white one shifted towards the tip and a dimmer one in the hair's colour shifted
towards the root (the light that crosses the strand, Marschner's TRT), sparkling
along the strands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.synth.texture import value_noise

HEAD_CENTRE = np.array([0.0, 0.03, -0.01])  # head-local metres, about the middle of the skull
CROWN = np.array([0.0, 0.9, -0.44]) / np.linalg.norm([0.0, 0.9, -0.44])  # from the centre to the crown
FLOW_RADIUS = 0.1  # metres: the noise's circle about the crown axis (strands converge at the crown)
STRAND_WIDTH = 0.002  # metres across the strands, at FLOW_RADIUS
LOCK_WIDTH = 0.008  # metres across a lock (strands that go together)
STRAND_STRETCH = 14.0  # how much longer the texture's features are along the strands than across
WAVE = 0.08  # radians of azimuth a strand sways by as it falls (a wave, not a straight comb)
WAVE_TERMS = ((0.6, 3, 5.0), (0.4, -5, 8.0))  # (weight, turns in azimuth, radians per radian from the crown)
MEAN_DENSITY = 0.62  # the mean of ``density``
SHIFT = (0.12, -0.08)  # the primary and secondary lobes' tilt of the tangent towards the normal
SHIFT_JITTER = 0.3  # the tilt's spread from strand to strand
SECONDARY = 0.5  # the secondary lobe's strength, relative to the primary's
BAND = 0.06  # a lobe about a band of directions, not a spot: Blinn-Phong's normalisation times this


def _axes() -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors spanning the plane across the crown axis."""
    first = np.cross(CROWN, [1.0, 0.0, 0.0])
    first /= np.linalg.norm(first)
    return first, np.cross(CROWN, first)


def _wave(azimuth: np.ndarray, polar: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The strands' sway (N,) in [-1, 1] over the azimuth and the angle from the crown: a sum of
    WAVE_TERMS sinusoids (whole turns in azimuth, so there is no seam) with the seed's phases;
    and its derivatives along each angle (N,) (the strands' direction needs them)."""
    phases = np.random.default_rng(seed).uniform(0.0, 2 * np.pi, len(WAVE_TERMS))
    value, d_azimuth, d_polar = (np.zeros(len(azimuth)) for _ in range(3))
    for (weight, turns, frequency), phase in zip(WAVE_TERMS, phases):
        angle = turns * azimuth + frequency * polar + phase
        value += weight * np.sin(angle)
        d_azimuth += weight * turns * np.cos(angle)
        d_polar += weight * frequency * np.cos(angle)
    return value, d_azimuth, d_polar


def _frame(local: np.ndarray) -> tuple[np.ndarray, ...]:
    """Head-local points (N, 3) about the crown: (offset from the head's centre (N, 3), its
    components x and y across the crown axis and its height along it, its length, the angle from
    the crown, the azimuth about the crown axis), each (N,) but the first."""
    radial = local - HEAD_CENTRE
    first, second = _axes()
    x, y, height = radial @ first, radial @ second, radial @ CROWN
    length = np.maximum(np.linalg.norm(radial, axis=1), 1e-12)
    return radial, x, y, height, length, np.arccos(np.clip(height / length, -1.0, 1.0)), np.arctan2(y, x)


def _angles(local: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(azimuth about the crown axis, with the strands' sway; angle from the crown) (N,) each."""
    *_, polar, azimuth = _frame(local)
    return azimuth + WAVE * _wave(azimuth, polar, seed)[0], polar


def _coordinates(azimuth: np.ndarray, polar: np.ndarray) -> np.ndarray:
    return np.stack([FLOW_RADIUS * np.cos(azimuth), FLOW_RADIUS * np.sin(azimuth), FLOW_RADIUS * polar / STRAND_STRETCH], axis=1)


def _density(coordinates: np.ndarray, seed: int) -> np.ndarray:
    fine = value_noise(coordinates, STRAND_WIDTH, seed + 11)
    locks = value_noise(coordinates, LOCK_WIDTH, seed + 13)
    return np.clip(MEAN_DENSITY + 0.25 * fine + 0.2 * locks, 0.25, 1.0)


def flow(local: np.ndarray, seed: int) -> np.ndarray:
    """Texture coordinates (N, 3) in metres of head-local points in the hair's flow: across the
    strands (a circle of FLOW_RADIUS about the crown axis) and along them (the angle from the
    crown, stretched by STRAND_STRETCH)."""
    return _coordinates(*_angles(local, seed))


def density(local: np.ndarray, seed: int) -> np.ndarray:
    """Strand density (N,) in [0.25, 1] at head-local points: fine strands gathered in locks."""
    return _density(flow(local, seed), seed)


def strands(local: np.ndarray, normals: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What shading needs at hair points (N, 3) with surface normals (N, 3): the strand density
    (N,), a sparkle (N,) in [0, 1] (finer noise along the same strands), and the strands'
    direction (N, 3): in the tangent plane, along the level lines of the swayed azimuth, away from
    the crown (unit), from the angles' and the sway's analytic gradients, so the highlight follows
    the strands the texture draws."""
    radial, x, y, height, length, polar, azimuth = _frame(local)
    first, second = _axes()
    wave, d_wave_azimuth, d_wave_polar = _wave(azimuth, polar, seed)
    swayed = azimuth + WAVE * wave
    coordinates = _coordinates(swayed, polar)
    # gradients (N, 3) of the azimuth and of the angle from the crown
    ring = np.maximum(x**2 + y**2, 1e-12)
    d_azimuth = (x[:, None] * second - y[:, None] * first) / ring[:, None]
    unit = radial / length[:, None]
    away = (unit * (height / length)[:, None] - CROWN) / (length * np.maximum(np.sin(polar), 1e-6))[:, None]
    across = d_azimuth * (1 + WAVE * d_wave_azimuth)[:, None] + (WAVE * d_wave_polar)[:, None] * away
    tangent = np.cross(normals, across)
    tangent *= np.where(np.einsum("ij,ij->i", tangent, away) < 0, -1.0, 1.0)[:, None]
    size = np.linalg.norm(tangent, axis=1, keepdims=True)
    fallback = np.cross(normals, first)  # at the crown itself, any direction in the surface
    tangent = np.where(size > 1e-12, tangent / np.maximum(size, 1e-12), fallback)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-12)
    sparkle = (value_noise(coordinates, STRAND_WIDTH / 2, seed + 17) + 1) / 2
    return _density(coordinates, seed), sparkle, tangent


@dataclass(frozen=True)
class Lobes:
    """Per-sample constants of the strand highlight of a surface's hair samples (K of them)."""

    rows: np.ndarray  # (K,) the hair samples' rows in their surface
    tangents: np.ndarray  # (2, K, 3) the strand direction tilted by SHIFT towards the normal, per lobe
    peaks: np.ndarray  # (2, K) each lobe's peak: BAND * strength * (e + 2) / (2 pi)
    powers: np.ndarray  # (2, K) each lobe's exponent
    colours: np.ndarray  # (2, K, 3) white, and the hair's hue times the sparkle


def lobes(rows: np.ndarray, tangents: np.ndarray, normals: np.ndarray, albedo: np.ndarray, strength: np.ndarray,
          exponent: np.ndarray, sparkle: np.ndarray) -> Lobes:
    """The two lobes of hair samples ``rows`` (K,) with strand directions (K, 3), normals (K, 3),
    albedo (K, 3), the primary lobe's ``strength`` (K,) and ``exponent`` (K,), and ``sparkle`` (K,)
    in [0, 1]: Scheuermann's primary (white, tilted towards the tip) and secondary (the hair's hue,
    SECONDARY as strong, a quarter of the exponent, tilted towards the root), both varying from
    strand to strand with the sparkle (in tilt by SHIFT_JITTER and in strength)."""
    jitter = SHIFT_JITTER * (sparkle - 0.5)[:, None]  # each strand tilted its own way: a broken band, not a ring
    shifted = np.stack([tangents + (shift + jitter) * normals for shift in SHIFT])
    shifted /= np.maximum(np.linalg.norm(shifted, axis=-1, keepdims=True), 1e-12)
    powers = np.stack([exponent, exponent / 4])
    peaks = BAND * strength * np.array([[1.0], [SECONDARY]]) * (powers + 2.0) / (2.0 * np.pi)
    hue = albedo / np.maximum(albedo.max(axis=1, keepdims=True), 1e-6)
    return Lobes(rows=rows, tangents=shifted, peaks=peaks, powers=powers,
                 colours=np.stack([np.ones_like(hue) * (0.4 + 0.6 * sparkle)[:, None], hue * sparkle[:, None]]))


def kajiya_kay(lobes: Lobes, half: np.ndarray) -> np.ndarray:
    """The strand highlight (K, 3) per unit n.l for half vectors (K, 3): each lobe is its peak times
    sin(T, H) to its power, a band of directions across the strands."""
    t_dot_h = np.einsum("lkj,kj->lk", lobes.tangents, half)
    strength = lobes.peaks * np.clip(1.0 - t_dot_h**2, 0.0, 1.0) ** (lobes.powers / 2)
    return np.einsum("lk,lkc->kc", strength, lobes.colours)
