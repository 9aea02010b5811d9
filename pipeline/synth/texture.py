"""Solid (3D) procedural textures for surface materials: smooth value noise on a lattice.

A point's value depends on its position and a seed only, so a surface samples the
same texture from every view and at every resolution, with no UV seams.
"""

from __future__ import annotations

import numpy as np

_PRIMES = np.array([73856093, 19349663, 83492791], dtype=np.uint64)


def _hash(summed: np.ndarray, seed: int) -> np.ndarray:
    """A value in [0, 1) for each lattice point, from the sum (uint64, wrapping) of its coordinates
    times ``_PRIMES``, hashed with ``seed``."""
    h = summed ^ np.uint64(seed * 2654435761 % 2**32)
    h = (h ^ (h >> np.uint64(13))) * np.uint64(0x5BD1E995) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(15)
    return (h & np.uint64(0xFFFFFF)).astype(np.float64) / float(1 << 24)


def value_noise(points: np.ndarray, cell: float, seed: int) -> np.ndarray:
    """Smooth noise in [-1, 1] (N,) at points (N, 3), with features about ``cell`` across:
    random values on a cubic lattice of spacing ``cell``, blended with smoothstep weights.

    Each axis's share of the corners' hashes and weights is computed once for both of its
    lattice planes (uint64 sums wrap, so the order of the terms does not change the hash)."""
    scaled = np.asarray(points, dtype=np.float64) / cell
    base = np.floor(scaled)
    t = scaled - base
    t = t * t * (3.0 - 2.0 * t)
    weights = (1.0 - t, t)  # per corner bit: the weight along each axis
    terms = base.astype(np.int64).astype(np.uint64) * _PRIMES  # (N, 3)
    planes = (terms, terms + _PRIMES)  # the lower and the upper lattice plane along each axis
    out = np.zeros(len(scaled))
    for corner in range(8):
        bits = [(corner >> k) & 1 for k in range(3)]
        weight = weights[bits[0]][:, 0] * weights[bits[1]][:, 1] * weights[bits[2]][:, 2]
        summed = planes[bits[0]][:, 0] + planes[bits[1]][:, 1] + planes[bits[2]][:, 2]
        out += weight * _hash(summed, seed)
    return 2.0 * out - 1.0


def fractal_noise(points: np.ndarray, cell: float, seed: int, octaves: int = 3) -> np.ndarray:
    """Value noise summed over ``octaves`` halving scales (amplitudes halving too), about [-1, 1]."""
    total, amplitude, norm = np.zeros(len(points)), 1.0, 0.0
    for octave in range(octaves):
        total += amplitude * value_noise(points, cell / 2**octave, seed + 7919 * octave)
        norm += amplitude
        amplitude /= 2
    return total / norm


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((np.asarray(x) - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
