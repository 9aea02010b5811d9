"""Order-2 (9-coefficient) spherical harmonics irradiance (Ramamoorthi and Hanrahan 2001).

The real SH basis below uses world axes as named (y is up here); irradiance from
band-limited radiance is rotation-invariant, so any consistent axis naming works.
"""

from __future__ import annotations

import numpy as np

from pipeline.light.equirect import pixel_directions, pixel_solid_angles

# Convolution with the clamped cosine lobe, per band: A_0 = pi, A_1 = 2 pi / 3, A_2 = pi / 4.
COSINE_LOBE = np.array([np.pi] + [2 * np.pi / 3] * 3 + [np.pi / 4] * 5)


def sh_basis(directions: np.ndarray) -> np.ndarray:
    """The 9 real SH basis functions (..., 9) at unit directions (..., 3)."""
    x, y, z = directions[..., 0], directions[..., 1], directions[..., 2]
    return np.stack([
        np.full_like(x, 0.282095),
        0.488603 * y, 0.488603 * z, 0.488603 * x,
        1.092548 * x * y, 1.092548 * y * z, 0.315392 * (3 * z * z - 1), 1.092548 * x * z, 0.546274 * (x * x - y * y),
    ], axis=-1)


def project_sh(env: np.ndarray) -> np.ndarray:
    """SH coefficients (9, C) of an equirect map (H, 2H, C): sum of L Y omega over pixels."""
    height = env.shape[0]
    basis = sh_basis(pixel_directions(height)) * pixel_solid_angles(height)[..., None]
    return np.einsum("hwk,hwc->kc", basis, env)


def sh_diffuse(coefficients: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Diffuse light map D(n) = E(n) / pi (..., C) from SH coefficients (9, C) at normals (..., 3)."""
    return sh_basis(normals) @ (coefficients * COSINE_LOBE[:, None]) / np.pi
