"""Images per second of EG3D's generator (forward only, EMA-style inference) at each neural
rendering resolution, on this machine, for a config's sizes; seconds per training step and per
kimg of a profile's ``train_eg3d``; the modulated convolution's two forms against each other.

    .venv/bin/python benchmarks/eg3d.py [--device cuda] [--threads 2] [--size small|published] [--batch 2]
    .venv/bin/python benchmarks/eg3d.py --step default   # the training step of params.yaml's profile
    .venv/bin/python benchmarks/eg3d.py --modconv        # grouped per-sample weights against the unfused form

``published``: EG3D's sizes for FFHQ (planes of 256, w 512, 48 + 48 samples, output 512), with
neural rendering at 64 and 128 (its two phases). ``small``: planes of 64, w 128, 24 + 24
samples, output 64 from 32 (about what the default profile can afford on a CPU). Prints the
median seconds per batch and images per second, and the share of the time spent marching rays.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from timing import median_seconds

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.device import add_options, configure_from
from pipeline.fields.triplane import TriplaneConfig
from pipeline.models.eg3d import EG3DConfig
from pipeline.render.rays import camera_rays
from pipeline.render.volume import render_rays, VolumeConfig

SIZES = {
    "published": (EG3DConfig(), (64, 128)),  # super-resolution from 128 to 512 in both phases
    "small": (EG3DConfig(z_dim=128, w_dim=128, plane_resolution=64, channel_base=4096, channel_max=128,
                         neural_resolution=32, output_resolution=64, sr_channels=64, triplane=TriplaneConfig(),
                         volume=VolumeConfig(coarse_samples=24, fine_samples=24)), (32,)),
}


def grouped_modulated_conv2d(x, weight, styles, demodulate=True, padding=0):
    """The fused form: per-sample (demodulated) weights as one grouped convolution."""
    batch, channels = x.shape[:2]
    w = weight[None] * styles[:, None, :, None, None]
    if demodulate:
        w = w * (w.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8).rsqrt()
    out = torch.nn.functional.conv2d(x.reshape(1, batch * channels, *x.shape[2:]), w.reshape(-1, channels, *w.shape[3:]),
                                     padding=padding, groups=batch)
    return out.reshape(batch, -1, *out.shape[2:])


def modconv(repeats: int) -> None:
    """Forward and backward of both forms at the default profile's layer shapes, then the default
    profile's whole training step with each (the form swapped in ``pipeline.nn.stylegan``), twice
    in turn: the ratios."""
    from pipeline.nn import stylegan

    unfused = stylegan.modulated_conv2d
    for batch, inputs, outputs, side in ((4, 32, 32, 64), (4, 64, 48, 32), (4, 64, 64, 16), (8, 32, 32, 64)):
        x = torch.randn(batch, inputs, side, side, requires_grad=True)
        weight = torch.randn(outputs, inputs, 3, 3, requires_grad=True)
        styles = torch.rand(batch, inputs, requires_grad=True)
        times = [median_seconds(lambda f=f: f(x, weight, styles, padding=1).sum().backward(), repeats)
                 for f in (grouped_modulated_conv2d, unfused)]
        print(f"modulated 3x3 conv, batch {batch}, {inputs}->{outputs} channels at {side}^2, forward+backward: grouped "
              f"{times[0] * 1e3:.1f} ms, unfused {times[1] * 1e3:.1f} ms: unfused {times[0] / times[1]:.2f}x as fast")
    steps = {"grouped": [], "unfused": []}
    for _ in range(2):
        for name, form in (("grouped", grouped_modulated_conv2d), ("unfused", unfused)):
            stylegan.modulated_conv2d = form
            steps[name].append(training_step("default", 1, quiet=True))
    stylegan.modulated_conv2d = unfused
    grouped_s, unfused_s = min(steps["grouped"]), min(steps["unfused"])
    print(f"default training step: grouped {grouped_s:.3f} s, unfused {unfused_s:.3f} s (best of 2 each): "
          f"unfused {grouped_s / unfused_s:.2f}x as fast")


def training_step(profile: str, repeats: int, quiet: bool = False) -> float:
    """A profile's train_eg3d step on random images at its sizes: seconds per step and per kimg,
    the R1 and density steps included at their rates (every step is timed, ``repeats`` x their lcm).
    Returns the seconds per step."""
    import math
    import time
    from pathlib import Path

    from pipeline.config import load_params
    from pipeline.gan3d.data import GanBatch
    from pipeline.gan3d.eg3d import EG3DStep, eg3d_optimizers
    from functools import partial

    from pipeline.training import Trainer, TrainSettings

    cfg = load_params(Path(__file__).resolve().parents[1] / "params.yaml", profile=profile).section("train_eg3d")
    torch.manual_seed(0)
    generator, discriminator = cfg.model.build(), cfg.discriminator.build()
    steps = repeats * math.lcm(cfg.recipe.r1_every, cfg.recipe.density_every)
    trainer = Trainer({"generator": generator, "discriminator": discriminator},
                      eg3d_optimizers(generator, discriminator, cfg.recipe),
                      TrainSettings(steps, cfg.batch, steps, 0, "eg3d"),
                      averages={"generator": partial(cfg.recipe.ema_half_life, batch=cfg.batch)})
    labels = torch.tensor(np.stack([camera_label(orbit_camera(yaw, 0.0)) for yaw in np.linspace(-0.4, 0.4, cfg.batch)]),
                          dtype=torch.float32)
    side = cfg.model.output_resolution
    batch = GanBatch(torch.rand(cfg.batch, 3, side, side) * 2 - 1, labels, torch.randn(cfg.batch, cfg.model.z_dim),
                     labels, labels.flip(0), torch.rand(cfg.batch))
    step = EG3DStep(cfg.recipe, cfg.batch)
    step(trainer, trainer.place(batch))  # warm-up
    start = time.perf_counter()
    for trainer.step in range(steps):
        step(trainer, trainer.place(batch))
    seconds = (time.perf_counter() - start) / steps
    if quiet:
        return seconds
    print(f"train_eg3d ({profile}): G {sum(p.numel() for p in generator.parameters()) / 1e6:.2f} M, "
          f"D {sum(p.numel() for p in discriminator.parameters()) / 1e6:.2f} M parameters, batch {cfg.batch}: "
          f"{seconds:.3f} s per step over {steps} steps, {seconds * 1000 / cfg.batch:.0f} s per kimg; "
          f"{cfg.steps} steps ({cfg.steps * cfg.batch / 1000:g} kimg) take about {seconds * cfg.steps / 60:.1f} min")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--step", metavar="PROFILE", help="time the training step of this profile's train_eg3d instead")
    parser.add_argument("--modconv", action="store_true", help="time the modulated convolution's two forms instead")
    args = parser.parse_args()
    device = configure_from(args.device, args.threads).device
    if args.modconv:
        return modconv(max(args.repeats, 5))
    if args.step:
        training_step(args.step, args.repeats)
        return
    config, resolutions = SIZES[args.size]
    torch.manual_seed(0)
    generator = config.build().to(device).eval()
    print(f"{args.size}: {sum(p.numel() for p in generator.parameters()) / 1e6:.1f} M parameters, batch {args.batch}, on {device}")
    labels = np.stack([camera_label(orbit_camera(yaw, 0.0)) for yaw in np.linspace(-0.4, 0.4, args.batch)])
    cameras = torch.tensor(labels, dtype=torch.float32, device=device)
    z = torch.randn(args.batch, config.z_dim, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    with torch.no_grad():
        planes = generator.planes(generator.mapping(z, cameras))  # what the rays are marched through
    for resolution in resolutions:
        output = config.output_resolution

        @torch.no_grad()
        def whole():
            ws = generator.mapping(z, cameras)
            generator.synthesis(ws, cameras, neural_resolution=resolution)
            sync()

        @torch.no_grad()
        def rays_only():
            render_rays(generator.field, planes, camera_rays(cameras, resolution), config.volume)
            sync()

        whole(), rays_only()  # warm-up
        seconds, march = median_seconds(whole, args.repeats), median_seconds(rays_only, args.repeats)
        print(f"neural rendering {resolution}^2 -> output {output}^2: {seconds:.3f} s per batch, "
              f"{args.batch / seconds:.2f} images/s; marching the rays {march / seconds:.0%} of it")


if __name__ == "__main__":
    main()
