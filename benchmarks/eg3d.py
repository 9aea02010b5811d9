"""Images per second of EG3D's generator (forward only, EMA-style inference) at each neural
rendering resolution, on this machine, for a config's sizes.

    .venv/bin/python benchmarks/eg3d.py [--device cuda] [--threads 2] [--size small|published] [--batch 2]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = configure_from(args.device, args.threads).device
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
