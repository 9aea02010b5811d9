"""The ``lightstage`` command.

    lightstage relight IMAGE --hdri MAP [--background BG] [--trimap TRIMAP] -o OUT [--device cuda] [--threads N]

relights a photograph with the trained models (``--models``, default
data/models: matting, geometry, albedo, shading, as ``make repro`` writes them),
on the device ``--device`` or ``LIGHTSTAGE_DEVICE`` names (pipeline/device.py).

    lightstage sample --model data/models/eg3d|pigan --seeds 0-7 [--yaw -30,0,30] [--pitch 0] -o grid.png [--turntable out.mp4]

draws heads from a trained 3D-aware generator: a grid of seeds by yaw, and a turntable of
the first seed orbiting with its conditioning pose fixed.
Model files are read as plain data only: one whose unpickling would run code is
refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from pipeline import DataError, LightstageError
from pipeline.device import add_options, configure_from


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lightstage", description="lightstage: relighting with the trained pipeline")
    commands = parser.add_subparsers(dest="command", required=True)
    relight = commands.add_parser("relight", help="relight a portrait under an HDR map and composite it over a background")
    relight.add_argument("image", type=Path, help="the photograph (PNG, JPEG, ...; 8-bit sRGB)")
    relight.add_argument("--hdri", type=Path, required=True, help="the new lighting: an equirectangular .hdr or .exr map")
    relight.add_argument("--background", type=Path, help="the new background picture (resized to the photo); "
                         "default: the map itself as a frontal camera sees it")
    relight.add_argument("--trimap", type=Path, help="a trimap (0 background, 128 unknown, 255 foreground); "
                         "default: a coarse one from the largest face's head-and-shoulders prior refined by GrabCut "
                         "(border colours where no face is found)")
    relight.add_argument("-o", "--output", type=Path, required=True, help="the composite, PNG")
    relight.add_argument("--layers", type=Path, help="also write alpha, normals, albedo and relit foreground PNGs here")
    relight.add_argument("--models", type=Path, default=Path("data/models"), help="folder of the trained models")
    relight.add_argument("--params", type=Path, default=Path("params.yaml"),
                         help="params whose lightmaps and evaluate_relighting sections set map sizes and exposure")
    add_options(relight)
    sample = commands.add_parser("sample", help="heads from a trained 3D-aware generator: a grid of seeds by yaw, a turntable")
    sample.add_argument("--model", type=Path, default=Path("data/models/eg3d"),
                        help="a generator file (EG3D's or pi-GAN's), or a training stage's folder (its generator.pt): "
                             "data/models/eg3d, data/models/pigan")
    sample.add_argument("--seeds", type=seed_list, default=seed_list("0-7"), help="seeds, e.g. 0-7 or 1,4,9 (rows)")
    sample.add_argument("--yaw", type=angle_list, default=angle_list("-30,-15,0,15,30"),
                        help="degrees, comma-separated (columns); positive moves the camera to the subject's left")
    sample.add_argument("--pitch", type=float, default=0.0, help="degrees; positive raises the camera, looking down on the head")
    sample.add_argument("--truncation", type=float, default=0.7, help="psi, 1 for none")
    sample.add_argument("--scale", type=int, default=2, help="pixels repeated in the pictures (small generators)")
    sample.add_argument("-o", "--output", type=Path, help="the grid, PNG")
    sample.add_argument("--turntable", type=Path, help="a video (.mp4 or .avi) of the first seed orbiting")
    sample.add_argument("--frames", type=int, default=96, help="frames of the turntable")
    add_options(sample)
    return parser


def seed_list(text: str) -> list[int]:
    """'0-7' or '1,4,9' or a mix ('0-3,9')."""
    seeds = []
    try:
        for part in text.split(","):
            low, _, high = part.partition("-")
            seeds.extend(range(int(low), int(high) + 1) if high else [int(low)])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: seeds are whole numbers, e.g. 0-7 or 1,4,9") from None
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: no seeds, or a negative one")
    return seeds


def angle_list(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: angles are numbers in degrees, comma-separated") from None


BACKDROP_ROWS = 2048  # the map behind the subject, at most this many rows (a portrait camera sees about 13 degrees of it)


def relight_command(args: argparse.Namespace) -> None:
    import torch

    from pipeline.config import load_params
    from pipeline.io.arrays import load_png, save_png
    from pipeline.io.hdr import load_equirect, resize_equirect
    from pipeline.io.resize import resize_picture
    from pipeline.io.sheet import to_picture
    from pipeline.models.checkpoint import load_model
    from pipeline.models.matting import MattingConfig
    from pipeline.relighting.chain import RelightingChain
    from pipeline.relighting.photo import PhotoRelighter, environment_from

    params = load_params(args.params)
    execution = configure_from(args.device, args.threads)
    photo = load_png(args.image).astype(np.float32) / 255.0
    height, width = photo.shape[:2]
    trimap = None
    if args.trimap is not None:
        trimap = resize_picture(load_png(args.trimap)[..., 0], height, width, nearest=True)
        if not np.isin(trimap, (0, 128, 255)).all():
            raise DataError(f"{args.trimap}: a trimap holds only 0, 128 and 255")
    background = None if args.background is None else resize_picture(load_png(args.background), height, width).astype(np.float32) / 255.0
    maps = params.section("lightmaps")
    full, negatives = load_equirect(args.hdri, None, maps.max_negative_share)
    env = resize_equirect(full, maps.env_height)  # for the light maps; the background is seen in the sharper map
    backdrop = resize_equirect(full, min(full.shape[0], BACKDROP_ROWS))
    if negatives.pixels:
        print(f"{args.hdri}: set {negatives.pixels} pixels of negative radiance to 0 (minimum {negatives.minimum:.4g}, "
              f"{negatives.share:.3g} of the map's energy)", file=sys.stderr)
    environment = environment_from(env, maps.lightmap_height)
    matting, _ = load_model(args.models / "matting" / "model.pt", MattingConfig, execution.device)
    chain = RelightingChain.load(args.models / "geometry", args.models / "albedo", args.models / "shading",
                                 device=execution.device)
    relighter = PhotoRelighter.from_params(matting, chain, params)
    with torch.no_grad():
        try:
            result = relighter(photo, environment, background, trimap, backdrop=backdrop)
        except DataError as err:  # nothing written yet
            raise DataError(f"{args.image}: {err}") from err
    if result.segmentation is not None:
        found = result.segmentation.faces
        faces = "no face found" if found == 0 else "1 face" if found == 1 else f"{found} faces, the largest taken"
        print(f"trimap: {result.segmentation.method} ({faces})")
    save_png(args.output, np.round(np.clip(result.composite, 0, 1) * 255).astype(np.uint8))
    if args.layers is not None:
        small = result.working_alpha[..., None]  # normals and albedo come at the nets' working size
        layers = {"alpha": to_picture(result.alpha, "scalar"), "trimap": result.trimap,
                  "normals": to_picture(result.relit.normals * small, "vectors"),
                  "albedo": to_picture(result.relit.albedo * small, "scalar"),
                  "relit": to_picture(result.relit_full)}
        for name, picture in layers.items():
            save_png(args.layers / f"{name}.png", picture)
    print(f"lightstage relight: wrote {args.output}")


def sample_command(args: argparse.Namespace) -> None:
    from pipeline.gan3d.generators import load_generator
    from pipeline.gan3d.sample import sample_grid, turntable
    from pipeline.io.arrays import save_png
    from pipeline.io.video import write_video

    if args.output is None and args.turntable is None:
        raise DataError("nothing to write: give -o GRID.png, --turntable VIDEO.mp4 or both")
    if not 0 <= args.truncation <= 1:
        raise DataError(f"--truncation {args.truncation}: psi is between 0 and 1")
    execution = configure_from(args.device, args.threads)
    path = args.model / "generator.pt" if args.model.is_dir() else args.model
    generator, payload = load_generator(path, execution.device)
    if args.output is not None:
        save_png(args.output, sample_grid(generator, args.seeds, args.yaw, args.pitch, args.truncation, args.scale))
        print(f"lightstage sample: wrote {args.output} ({len(args.seeds)} seeds x {len(args.yaw)} yaws, "
              f"{payload.get('kimg', '?')} kimg)")
    if args.turntable is not None:
        frames = turntable(generator, args.seeds[0], args.frames, pitch=args.pitch, truncation=args.truncation)
        write_video(args.turntable, frames, scale=args.scale)
        print(f"lightstage sample: wrote {args.turntable} ({args.frames} frames of seed {args.seeds[0]})")


ANGLE_OPTIONS = ("--yaw", "--pitch")


def joined_angles(argv: list[str]) -> list[str]:
    """``--yaw -30,0,30`` as ``--yaw=-30,0,30``: argparse reads a value starting with '-' that is not
    a plain number as an option."""
    out, k = [], 0
    while k < len(argv):
        value = argv[k + 1] if k + 1 < len(argv) else ""
        if argv[k] in ANGLE_OPTIONS and value[:1] == "-" and value[1:2] in set("0123456789."):
            out.append(f"{argv[k]}={value}")
            k += 2
        else:
            out.append(argv[k])
            k += 1
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(joined_angles(list(sys.argv[1:] if argv is None else argv)))
    try:
        if args.command == "relight":
            relight_command(args)  # load_png names a missing or unreadable image
        elif args.command == "sample":
            sample_command(args)
    except LightstageError as err:
        print(f"lightstage {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
