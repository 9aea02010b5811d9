"""Frames per second of the whole relighting chain on a photograph, and where the time goes.

    .venv/bin/python benchmarks/relight.py [--profile default] [--threads 2] [--sizes 256x256 512x512]
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
import yaml

from timing import median_seconds

from pipeline.light.pairs import view_light_maps
from pipeline.light.tonemap import composite
from pipeline.matting.data import random_texture
from pipeline.matting.inference import predict
from pipeline.models.matting import MattingConfig, MattingNet
from pipeline.models.relighting import AlbedoNet, GeometryNet, NetConfig, NeuralRenderer, RendererConfig, ShadingNet, SpecularNet
from pipeline.relighting.chain import RelightingChain
from pipeline.relighting.photo import FRONTAL, PhotoRelighter, environment_from
from pipeline.synth.hdri import procedural_sky


def section(params: dict, name: str, profile: str) -> dict:
    return {**params[name], **((params.get("profiles", {}).get(profile) or {}).get(name) or {})}


def build(params: dict, profile: str, device: str) -> tuple[MattingNet, RelightingChain]:
    m, g, a, s = (section(params, f"train_{n}", profile) for n in ("matting", "geometry", "albedo", "shading"))
    matting = MattingNet(MattingConfig(widths=tuple(m["widths"]), guidance=m["guidance"], norm=m["norm"])).to(device)
    nets = (GeometryNet(NetConfig(tuple(g["widths"]), g["bottleneck"], g["norm"])),
            AlbedoNet(NetConfig(tuple(a["widths"]), a["bottleneck"], a["norm"])),
            ShadingNet(SpecularNet(NetConfig(tuple(s["specular_widths"]), s["specular_bottleneck"], s["norm"])),
                       NeuralRenderer(RendererConfig(tuple(s["widths"]), s["bottleneck"], s["norm"], s["renderer_output"]))))
    chain = RelightingChain(*(net.to(device) for net in nets))  # the chain runs on its nets' device
    return matting, chain


def photo(height: int, width: int) -> np.ndarray:
    """A soft ellipse of texture over another texture: a stand-in portrait (sRGB in [0, 1])."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[:height, :width]
    radius = np.hypot((y - 0.55 * height) / (0.4 * height), (x - 0.5 * width) / (0.3 * width))
    alpha = np.clip((1.0 - radius) * 20, 0, 1).astype(np.float32)
    return composite(random_texture(rng, height, width) * alpha[..., None], alpha, random_texture(rng, height, width) * 0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default", choices=("tiny", "default", "paper"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", nargs="+", default=["256x256", "512x512"], help="HEIGHTxWIDTH")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    params = yaml.safe_load(open("params.yaml"))
    torch.set_num_threads(args.threads)
    maps = section(params, "lightmaps", args.profile)
    env = procedural_sky(np.random.default_rng(1), maps["env_height"]).astype(np.float32)
    start = time.perf_counter()
    environment = environment_from(env, maps["lightmap_height"])
    print(f"profile {args.profile} on {args.device} ({args.threads} CPU threads); prefiltering the map once: "
          f"{time.perf_counter() - start:.2f} s ({maps['env_height']}x{2 * maps['env_height']} -> {maps['lightmap_height']} rows)")
    matting, chain = build(params, args.profile, args.device)
    relighter = PhotoRelighter(matting, chain)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
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
