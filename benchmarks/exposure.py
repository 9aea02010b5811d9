"""How ``lightstage relight`` exposes its composite over real maps: the old rule (exposed for the face
alone, clipped) against the current one (one exposure metered on face and map, highlights rolled off).

    python benchmarks/exposure.py PHOTO MAPS_FOLDER [-o reports/real_inputs/exposure.png]

Prints, per map, the share of white pixels (every channel at 254 or more) and the median sRGB level of
the subject and of the background under both rules, and writes a before/after sheet. The subject is
relit once per map (trained models in data/models); only the picture is made twice. Blender's eight
Poly Haven maps (CC0) come out of its wheel: ``pip download bpy --no-deps``, then unzip
``bpy/*/datafiles/studiolights/world/*.exr``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from pipeline.cli import BACKDROP_ROWS
from pipeline.config import load_params
from pipeline.io.arrays import load_png, save_png
from pipeline.io.hdr import find_maps, load_equirect, resize_equirect
from pipeline.io.resize import resize_picture
from pipeline.io.sheet import grid, label
from pipeline.models.checkpoint import load_model
from pipeline.models.matting import MattingConfig
from pipeline.relighting.chain import RelightingChain
from pipeline.relighting.photo import PhotoRelighter, environment_from

OLD_RULE = 1.0, 1.0 - 1e-9  # face_weight 1 (the face alone), a knee at 1 (clipping)
TILE = 192


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", type=Path)
    parser.add_argument("maps", type=Path, help="a folder of .hdr / .exr maps")
    parser.add_argument("--models", type=Path, default=Path("data/models"))
    parser.add_argument("-o", "--output", type=Path, default=Path("reports/real_inputs/exposure.png"))
    args = parser.parse_args()
    params = load_params("params.yaml")
    maps = params.section("lightmaps")
    photo = load_png(args.photo).astype(np.float32) / 255.0
    matting, _ = load_model(args.models / "matting" / "model.pt", MattingConfig, "cpu")
    chain = RelightingChain.load(args.models / "geometry", args.models / "albedo", args.models / "shading")
    relighter = PhotoRelighter.from_params(matting, chain, params)
    rules = {"before": OLD_RULE, "after": (relighter.face_weight, relighter.highlight_knee)}
    tiles = []
    print("map | white pixels before | after | subject median before | after | background median before | after")
    for path in find_maps(args.maps):
        full, _ = load_equirect(path, None, maps.max_negative_share)
        environment = environment_from(resize_equirect(full, maps.env_height), maps.lightmap_height)
        backdrop = resize_equirect(full, min(full.shape[0], BACKDROP_ROWS))
        with torch.no_grad():
            result = relighter(photo, environment, backdrop=backdrop)
        row = []
        for name, (relighter.face_weight, relighter.highlight_knee) in rules.items():
            picture = relighter.picture(result.relit_full, result.alpha, environment, None, backdrop)
            level = picture.mean(axis=-1)
            white = float((np.round(picture * 255).min(axis=-1) >= 254).mean())
            row.append((white, np.median(level[result.alpha > 0.5]), np.median(level[result.alpha < 0.5])))
            tile = np.round(resize_picture(picture, TILE, TILE) * 255).astype(np.uint8)
            tiles.append(label(tile, f"{path.stem} {name}: {white:.0%} white"))
        (white_b, face_b, back_b), (white_a, face_a, back_a) = row
        print(f"{path.stem} | {white_b:.1%} | {white_a:.1%} | {face_b:.2f} | {face_a:.2f} | {back_b:.2f} | {back_a:.2f}")
    columns = 4  # two maps, before and after, per row
    tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % columns)
    save_png(args.output, grid([tiles[i:i + columns] for i in range(0, len(tiles), columns)]))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
