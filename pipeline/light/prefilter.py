"""Light maps: an environment prefiltered with a diffuse (cosine) lobe or a Phong lobe.

    D(n)   = (1 / pi)          sum_w L(w) max(0, n.w)   omega(w)
    S_k(r) = ((k + 1) / 2 pi)  sum_w L(w) max(0, r.w)^k omega(w)

both normalised so that a constant environment of radiance c gives c. The sums
run over every pixel of the source map (exact, brute force), evaluated at the
pixel directions of a smaller output grid.
"""

from __future__ import annotations

import numpy as np

from pipeline.light.equirect import pixel_directions, pixel_solid_angles

PHONG_EXPONENTS = (1, 16, 32, 64)


def lobe_filter(env: np.ndarray, out_height: int, exponent: float, normalisation: float, chunk: int = 512) -> np.ndarray:
    """``normalisation * sum_w L(w) max(0, d.w)^exponent omega(w)`` at an out_height x 2 out_height grid."""
    height = env.shape[0]
    sources = pixel_directions(height).reshape(-1, 3)
    radiance = env.reshape(-1, env.shape[-1]) * pixel_solid_angles(height).reshape(-1, 1)
    targets = pixel_directions(out_height).reshape(-1, 3)
    out = np.empty((len(targets), env.shape[-1]))
    for start in range(0, len(targets), chunk):
        cosine = np.clip(targets[start:start + chunk] @ sources.T, 0.0, None)
        out[start:start + chunk] = (cosine**exponent) @ radiance
    return (normalisation * out).reshape(out_height, 2 * out_height, -1)


def diffuse_map(env: np.ndarray, out_height: int) -> np.ndarray:
    """Exact diffuse light map (h, 2h, C) of an equirect map (H, 2H, C)."""
    return lobe_filter(env, out_height, 1.0, 1.0 / np.pi)


def phong_map(env: np.ndarray, out_height: int, exponent: float) -> np.ndarray:
    """Phong-prefiltered light map (h, 2h, C) with the (n + 1) / 2 pi normalisation."""
    return lobe_filter(env, out_height, exponent, (exponent + 1.0) / (2.0 * np.pi))


def light_maps(env: np.ndarray, out_height: int) -> dict[str, np.ndarray]:
    """Every light map of one environment on an out_height x 2 out_height grid:
    ``diffuse`` (exact), ``diffuse_sh`` (9-coefficient SH), ``phong`` (len(PHONG_EXPONENTS), h, 2h, C)
    and the SH coefficients ``sh`` (9, C)."""
    from pipeline.light.sh import project_sh, sh_diffuse

    coefficients = project_sh(env)
    return {
        "diffuse": diffuse_map(env, out_height),
        "diffuse_sh": sh_diffuse(coefficients, pixel_directions(out_height)),
        "phong": np.stack([phong_map(env, out_height, n) for n in PHONG_EXPONENTS]),
        "sh": coefficients,
    }
