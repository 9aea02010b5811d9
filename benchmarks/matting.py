"""Matting inference time per image, and the parameter count, for the configured widths.

    .venv/bin/python benchmarks/matting.py [--profile default] [--threads 2] [--device cpu]

Times one forward pass (median of several, colour guidance included) at
128x128 and 256x256 for the network, and closed-form matting (pymatting) on the
same image (a textured disc composited over a texture) as the baseline,
printing each and their ratio, all from this run. Then the training data's one costly
augmentation, the simulated segmentation (``coarse_segmentation``, on 15 % of the crops),
against its scipy.ndimage form, both timed here on a 128 px matte.
"""

from __future__ import annotations

import argparse

import numpy as np

from timing import median_seconds

from pipeline.config import PROFILES, load_params
from pipeline.device import add_options, configure_from
from pipeline.light.tonemap import composite
from pipeline.matting.data import random_texture
from pipeline.matting.inference import closed_form, predict
from pipeline.matting.trimap import coarse_segmentation, trimap_from_alpha


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default", choices=PROFILES)
    add_options(parser)
    args = parser.parse_args()
    execution = configure_from(args.device, args.threads)
    cfg = load_params("params.yaml", profile=args.profile).section("train_matting").model
    model = cfg.build().to(execution.device).eval()  # as the stage builds it
    print(f"profile {args.profile}: widths {list(cfg.widths)}, guidance {cfg.guidance}, norm {cfg.norm}, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters, on {execution.device}, {execution.threads} CPU threads")
    rng = np.random.default_rng(0)
    for size in (128, 256):
        y, x = np.mgrid[:size, :size] - size / 2
        alpha = np.clip((size * 0.3 - np.hypot(x, y)) / 3 + 0.5, 0, 1)
        image = composite(random_texture(rng, size, size) * alpha[..., None], alpha, random_texture(rng, size, size))
        trimap = trimap_from_alpha(alpha, max(1, size // 40))
        predict(model, image, trimap, clamp_known=True)  # warm-up (and numba's compilation for pymatting)
        closed_form(image, trimap)
        network = median_seconds(lambda: predict(model, image, trimap, clamp_known=True), 5)
        baseline = median_seconds(lambda: closed_form(image, trimap), 3)
        print(f"{size}x{size}: network {network * 1000:.1f} ms/image ({1 / network:.1f} fps), "
              f"closed-form {baseline * 1000:.1f} ms/image, closed-form / network = {baseline / network:.1f}x")

    segmentation_cost(rng)


def scipy_segmentation(alpha: np.ndarray, rng: np.random.Generator, thin_radius: int, jitter: int) -> np.ndarray:
    """``coarse_segmentation`` as it was written with scipy.ndimage (the baseline)."""
    from scipy import ndimage

    from pipeline.matting.trimap import dilate, erode

    mask = dilate(erode(alpha >= 0.5, thin_radius, outside=0), thin_radius)
    signed = np.where(mask, ndimage.distance_transform_edt(mask), -ndimage.distance_transform_edt(~mask))
    field = ndimage.gaussian_filter(rng.normal(size=alpha.shape), sigma=alpha.shape[0] / 8)
    field *= jitter / max(np.abs(field).max(), 1e-9)
    return signed + field > 0.5


def segmentation_cost(rng: np.random.Generator, size: int = 128) -> None:
    y, x = np.mgrid[:size, :size] - size / 2
    alpha = np.clip((size * 0.3 - np.hypot(x, y)) / 3 + 0.5, 0, 1)
    thin, jitter = round(0.02 * size), round(0.02 * size)  # trimaps' thin_fraction and jitter_fraction
    agree = np.mean(coarse_segmentation(alpha, np.random.default_rng(1), thin, jitter)
                    == scipy_segmentation(alpha, np.random.default_rng(1), thin, jitter))
    ours = median_seconds(lambda: [coarse_segmentation(alpha, rng, thin, jitter) for _ in range(50)], 5) / 50
    scipy = median_seconds(lambda: [scipy_segmentation(alpha, rng, thin, jitter) for _ in range(50)], 5) / 50
    print(f"simulated segmentation at {size}x{size}: OpenCV {ours * 1000:.2f} ms, scipy.ndimage {scipy * 1000:.2f} ms: "
          f"{scipy / ours:.1f}x faster; the same pixels: {agree:.2%}")


if __name__ == "__main__":
    main()
