"""Evaluating the relighting chain on one test case, against two baselines.

Methods compared on the same inputs:
- ``model``: the trained chain (normals, albedo, light maps, Shading Net);
- ``copy_input``: the input foreground copied unchanged (no relighting at all);
- ``sh_lambertian``: albedo x order-2 SH irradiance of the target map at the
  normals, both predicted by the chain (classical relighting without the Shading Net).

Relit images are compared as pictures: each method's linear result is exposed so
the subject's median luminance is ``exposure_median`` (as a camera exposing for
the face would, and as the true composites are), sRGB-encoded, over black.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline import DataError
from pipeline.camera.eg3d import normals_to_world
from pipeline.io.arrays import srgb_curve, srgb_to_linear
from pipeline.light.pairs import Environment
from pipeline.light.relight import light_weights, relight
from pipeline.light.sh import project_sh, sh_diffuse
from pipeline.light.tonemap import subject_exposure, unpremultiply
from pipeline.metrics.image import fit_scale, mae, mse, psnr, ssim
from pipeline.metrics.normals import angles_deg
from pipeline.metrics.temporal import temporal_difference, temporal_metrics
from pipeline.relighting.chain import Relit, RelightingChain

METHODS = ("model", "copy_input", "sh_lambertian")


def picture(linear: np.ndarray, alpha: np.ndarray, median: float, background: np.ndarray | None = None) -> np.ndarray:
    """A premultiplied linear foreground (H, W, 3) exposed for the face, over ``background``
    (linear, already exposed) or black, as sRGB values in [0, 1]."""
    exposed = linear * subject_exposure(linear, alpha, median)
    if background is not None:
        exposed = exposed + (1.0 - alpha[..., None]) * background
    return srgb_curve(exposed)


def linear_foreground(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The input (sRGB premultiplied, as exposed) back to linear, premultiplied."""
    return srgb_to_linear(unpremultiply(image, alpha)) * alpha[..., None]


def sh_relight(albedo: np.ndarray, normals: np.ndarray, alpha: np.ndarray, camera: np.ndarray,
               environment: Environment) -> np.ndarray:
    """Lambertian relighting with SH irradiance: albedo x D_SH(n), premultiplied (H, W, 3)."""
    shading = sh_diffuse(project_sh(environment.env), normals_to_world(camera, normals))
    return albedo * shading * alpha[..., None]


def image_errors(predicted: np.ndarray, target: np.ndarray, mask: np.ndarray | None) -> dict[str, float]:
    """MAE, MSE, PSNR over ``mask`` (everything if None) and SSIM over the whole frame."""
    return {"mae": mae(predicted, target, mask), "mse": mse(predicted, target, mask),
            "psnr": psnr(predicted, target, mask), "ssim": ssim(predicted, target)}


@dataclass(frozen=True)
class CaseResult:
    relit: Relit  # the chain's intermediate and final maps
    pictures: dict[str, np.ndarray]  # method -> relit picture (H, W, 3) in [0, 1]
    errors: dict[str, float]  # flat: normals, albedo and relit errors of each method
    angles: np.ndarray  # per-pixel normal errors, degrees


def evaluate_relighting(chain: RelightingChain, image: np.ndarray, alpha: np.ndarray, camera: np.ndarray,
                        environment: Environment, truth: dict[str, np.ndarray], median: float) -> CaseResult:
    """The relighting module alone on a matted input (H, W, 3) with its true alpha (H, W).
    ``truth``: normals, albedo, relit (linear, premultiplied)."""
    out = chain.relight(image, alpha, camera, environment)
    solid, covered = alpha > 0.5, alpha > 0
    angles = angles_deg(out.normals, truth["normals"], solid)
    errors = {"albedo_mae": mae(out.albedo, truth["albedo"], solid), "albedo_psnr": psnr(out.albedo, truth["albedo"], solid)}
    scaled = out.albedo * fit_scale(out.albedo, truth["albedo"], solid)
    errors.update({"albedo_mae_scaled": mae(scaled, truth["albedo"], solid), "albedo_psnr_scaled": psnr(scaled, truth["albedo"], solid)})
    linear = {"model": out.relit, "copy_input": linear_foreground(image, alpha),
              "sh_lambertian": sh_relight(out.albedo, out.normals, alpha, camera, environment)}
    pictures = {name: picture(value, alpha, median) for name, value in linear.items()}
    pictures["truth"] = picture(truth["relit"], alpha, median)
    for name in METHODS:
        errors.update({f"relit_{name}_{k}": v for k, v in image_errors(pictures[name], pictures["truth"], covered).items()})
    return CaseResult(relit=out, pictures=pictures, errors=errors, angles=angles)


def composite_pictures(chain: RelightingChain, matte_alpha: np.ndarray, matte_image: np.ndarray, camera: np.ndarray,
                       environment: Environment, background: np.ndarray, median: float) -> dict[str, np.ndarray]:
    """End to end: each method's relit foreground from a predicted matte (alpha (H, W), premultiplied
    sRGB foreground) composited over a new background (linear, exposed): C = alpha F + (1 - alpha) B."""
    out = chain.relight(matte_image, matte_alpha, camera, environment)
    linear = {"model": out.relit, "copy_input": linear_foreground(matte_image, matte_alpha),
              "sh_lambertian": sh_relight(out.albedo, out.normals, matte_alpha, camera, environment)}
    return {name: picture(value, matte_alpha, median, background) for name, value in linear.items()}


def turning_sequence(chain: RelightingChain, image: np.ndarray, alpha: np.ndarray, camera: np.ndarray,
                     environment: Environment, olat: np.ndarray, light_directions: np.ndarray, frames: int,
                     median: float) -> tuple[dict[str, np.ndarray], dict[str, dict[str, float]]]:
    """The subject relit under the map turning through 360 degrees in ``frames`` steps: every
    method's pictures (T, H, W, 3) and their temporal metrics against the OLAT truth. Each
    sequence keeps the exposure of its first frame, so brightness changes stay visible."""
    columns = environment.diffuse.shape[1]
    if columns % frames:
        raise DataError(f"evaluate_relighting.temporal_frames = {frames} must divide the light-map width ({columns} columns)")
    normals = chain.predict_normals(image)
    albedo = chain.predict_albedo(image, normals)
    linear = {name: [] for name in ("truth",) + METHODS}
    for frame in range(frames):
        turned = environment.rotated(frame * columns // frames)
        linear["truth"].append(relight(olat, light_weights(turned.env, light_directions)))
        linear["model"].append(chain.shade(image, alpha, normals, albedo, camera, turned).relit)
        linear["copy_input"].append(linear_foreground(image, alpha))
        linear["sh_lambertian"].append(sh_relight(albedo, normals, alpha, camera, turned))
    sequences = {}
    for name, frames_linear in linear.items():
        exposure = subject_exposure(frames_linear[0], alpha, median)
        sequences[name] = np.stack([srgb_curve(f * exposure) for f in frames_linear])
    covered = alpha > 0
    metrics = {name: temporal_metrics(sequences[name], sequences["truth"], covered, cyclic=True) for name in METHODS}
    return sequences, metrics


def per_frame_table(sequences: dict[str, np.ndarray], alpha: np.ndarray) -> list[dict[str, float]]:
    """Per frame: the turn in degrees, each sequence's mean brightness, and each method's TD step."""
    covered, frames = alpha > 0, len(sequences["truth"])
    steps = {name: temporal_difference(sequences[name], sequences["truth"], covered, cyclic=True) for name in METHODS}
    rows = []
    for t in range(frames):
        row = {"angle_deg": 360.0 * t / frames}
        row.update({f"{name}_brightness": float(sequences[name][t][covered].mean()) for name in sequences})
        row.update({f"{name}_td": float(steps[name][t]) for name in METHODS})
        rows.append(row)
    return rows
