"""Slow, obvious references for the light math: plain loops over pixels.

Tests compare the vectorised functions against these on small maps, and
benchmarks/lightmaps.py times them; nothing in the pipeline calls them.
"""

from __future__ import annotations

import math

import numpy as np


def _direction(row: int, col: int, height: int) -> tuple[float, float, float]:
    theta, phi = math.pi * (row + 0.5) / height, 2 * math.pi * (col + 0.5) / (2 * height)
    return math.sin(theta) * math.sin(phi), math.cos(theta), math.sin(theta) * math.cos(phi)


def loop_filter(env: np.ndarray, out_height: int, exponent: float, normalisation: float) -> np.ndarray:
    """For each output pixel, for each map pixel: radiance x max(0, cos)^exponent x solid angle."""
    height, width = env.shape[:2]
    out = np.zeros((out_height, 2 * out_height, env.shape[2]))
    for i in range(out_height):
        for j in range(2 * out_height):
            n = _direction(i, j, out_height)
            for a in range(height):
                omega = (2 * math.pi / width) * (math.cos(math.pi * a / height) - math.cos(math.pi * (a + 1) / height))
                for b in range(width):
                    w = _direction(a, b, height)
                    cosine = max(0.0, n[0] * w[0] + n[1] * w[1] + n[2] * w[2])
                    out[i, j] += env[a, b] * cosine**exponent * omega
    return normalisation * out
