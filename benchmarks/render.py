"""Rays per second of the shared volume renderer with EG3D's tri-plane field against pi-GAN's
FiLM-SIREN field, at equal samples per ray, both timed in this run.

    .venv/bin/python benchmarks/render.py [--device cuda] [--threads 2] [--resolution 64] [--samples 48 48]

Each field renders a batch of cameras two-pass (``--samples`` coarse and fine per ray) at
``--resolution`` squared rays per image, forward only (inference) and forward plus backward
(a training step's rendering part). The tri-plane field reads planes of ``--plane`` pixels,
32 channels (EG3D's), decoded by one hidden layer of 64; the SIREN has 8 FiLM layers of 256
(pi-GAN's). Prints the median seconds, rays per second and the ratio.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from timing import median_seconds

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.device import add_options, configure_from
from pipeline.fields.siren import Modulation, SirenConfig
from pipeline.fields.triplane import TriplaneConfig
from pipeline.render.rays import camera_rays
from pipeline.render.volume import render_rays, VolumeConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--resolution", type=int, default=32, help="rays per image: the square of this")
    parser.add_argument("--samples", type=int, nargs=2, default=(48, 48), metavar=("COARSE", "FINE"))
    parser.add_argument("--plane", type=int, default=256, help="tri-plane resolution (EG3D: 256)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = configure_from(args.device, args.threads).device
    torch.manual_seed(0)
    labels = np.stack([camera_label(orbit_camera(yaw, 0.0)) for yaw in np.linspace(-0.4, 0.4, args.batch)])
    rays = camera_rays(torch.tensor(labels, dtype=torch.float32, device=device), args.resolution)
    volume = VolumeConfig(coarse_samples=args.samples[0], fine_samples=args.samples[1])
    siren = SirenConfig()
    fields = {
        "tri-plane (32 ch, decoder 64)": (TriplaneConfig().build().to(device),
                                          torch.randn(args.batch, 3, 32, args.plane, args.plane, device=device)),
        f"SIREN ({siren.layers} FiLM layers of {siren.width})": (
            siren.build().to(device), Modulation(torch.randn(args.batch, siren.layers + 1, siren.width, device=device) * 15 + 30,
                                                 torch.randn(args.batch, siren.layers + 1, siren.width, device=device))),
    }
    count = args.batch * args.resolution**2
    print(f"{count} rays ({args.batch} x {args.resolution}^2), {sum(args.samples)} samples per ray, on {device}")
    seconds = {}
    for name, (field, latent) in fields.items():
        def forward():
            with torch.no_grad():
                render_rays(field, latent, rays, volume, torch.Generator(device=device).manual_seed(0))
            if device.startswith("cuda"):
                torch.cuda.synchronize()

        def training():
            field.zero_grad(set_to_none=True)
            render_rays(field, latent, rays, volume, torch.Generator(device=device).manual_seed(0)).features.sum().backward()
            if device.startswith("cuda"):
                torch.cuda.synchronize()

        forward(), training()  # warm-up
        seconds[name] = (median_seconds(forward, args.repeats), median_seconds(training, args.repeats))
        print(f"{name}: forward {seconds[name][0]:.3f} s ({count / seconds[name][0]:,.0f} rays/s), "
              f"forward + backward {seconds[name][1]:.3f} s ({count / seconds[name][1]:,.0f} rays/s)")
    (a, b), (c, d) = seconds.values()
    print(f"tri-plane against SIREN: {c / a:.1f}x faster forward, {d / b:.1f}x faster forward + backward")


if __name__ == "__main__":
    main()
