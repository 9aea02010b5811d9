"""Frames per second of the whole relighting chain on a photograph, and where the time goes.

    .venv/bin/python benchmarks/relight.py [--profile default] [--threads 2] [--device cpu] [--sizes 256x256 512x512]
    python benchmarks/relight.py --profile paper --device cuda --sizes 1024x768     # on a GPU

One frame = coarse trimap (border segmentation) -> matting network -> Geometry
Net -> Albedo Net -> light maps at the normals -> Shading Net -> compositing, as
`lightstage relight` runs it (light-map prefiltering of the HDR map is done
once per map, not per frame, and timed apart). Networks have the profile's
architecture; trained weights do not change the time, so they are freshly
initialised. Each step's share of the frame is printed beside the total, all
measured in this run (median of several frames).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from timing import median_seconds

from pipeline.config import PROFILES, Params, load_params
from pipeline.device import add_options, configure_from
from pipeline.light.pairs import view_light_maps
from pipeline.light.tonemap import composite
from pipeline.matting.data import random_texture
from pipeline.matting.inference import predict
from pipeline.models.matting import MattingNet
from pipeline.relighting.chain import RelightingChain
from pipeline.relighting.photo import FRONTAL, PhotoRelighter, environment_from
from pipeline.synth.hdri import procedural_sky


def build(params: Params, device: str) -> tuple[MattingNet, RelightingChain]:
    """The profile's nets, built as their training stages build them."""
    matting, geometry, albedo, shading = (params.section(f"train_{n}").model.build().to(device)
                                          for n in ("matting", "geometry", "albedo", "shading"))
    return matting, RelightingChain(geometry, albedo, shading)  # the chain runs on its nets' device


def photo(height: int, width: int) -> np.ndarray:
    """A soft ellipse of texture over another texture: a stand-in portrait (sRGB in [0, 1])."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[:height, :width]
    radius = np.hypot((y - 0.55 * height) / (0.4 * height), (x - 0.5 * width) / (0.3 * width))
    alpha = np.clip((1.0 - radius) * 20, 0, 1).astype(np.float32)
    return composite(random_texture(rng, height, width) * alpha[..., None], alpha, random_texture(rng, height, width) * 0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default", choices=PROFILES)
    add_options(parser)
    parser.add_argument("--sizes", nargs="+", default=["256x256", "512x512"], help="HEIGHTxWIDTH")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    execution = configure_from(args.device, args.threads)
    params = load_params("params.yaml", profile=args.profile)
    maps = params.section("lightmaps")
    env = procedural_sky(np.random.default_rng(1), maps.env_height).astype(np.float32)
    start = time.perf_counter()
    environment = environment_from(env, maps.lightmap_height)
    print(f"profile {args.profile} on {execution.device} ({execution.threads} CPU threads); prefiltering the map once: "
          f"{time.perf_counter() - start:.2f} s ({maps.env_height}x{2 * maps.env_height} -> {maps.lightmap_height} rows)")
    matting, chain = build(params, execution.device)
    relighter = PhotoRelighter.from_params(matting, chain, params)
    sync = torch.cuda.synchronize if execution.device.startswith("cuda") else (lambda: None)
    with torch.no_grad():
        for size in args.sizes:
            height, width = (int(v) for v in size.split("x"))
            image = photo(height, width)
            relighter(image, environment)  # warm-up
            sync()
            whole = median_seconds(lambda: (relighter(image, environment), sync()), args.repeats)
            trimap = relighter.coarse_trimap(image)
            matte = predict(matting, image, trimap, clamp_known=False)
            alpha = matte.alpha.astype(np.float32)
            fg = (matte.foreground * alpha[..., None]).astype(np.float32)
            normals = chain.predict_normals(fg)
            albedo = chain.predict_albedo(fg, normals)
            steps = {
                "trimap": lambda: relighter.coarse_trimap(image),
                "matting": lambda: (predict(matting, image, trimap, clamp_known=False), sync()),
                "geometry": lambda: (chain.predict_normals(fg), sync()),
                "albedo": lambda: (chain.predict_albedo(fg, normals), sync()),
                "light maps": lambda: view_light_maps(normals, alpha, FRONTAL, environment),
                "shading (incl. light maps)": lambda: (chain.shade(fg, alpha, normals, albedo, FRONTAL, environment), sync()),
            }
            times = {name: median_seconds(fn, args.repeats) for name, fn in steps.items()}
            shares = ", ".join(f"{name} {t / whole:.0%}" for name, t in times.items())
            print(f"{height}x{width}: {1 / whole:6.2f} frames/s ({whole * 1000:.0f} ms per frame); shares of a frame: {shares}")


if __name__ == "__main__":
    main()
