"""Stage ``lightmaps``: every HDR map at the working size, prefiltered.

Maps: the procedural ones from ``synth`` and/or real ``.hdr``/``.exr`` files
(validated, area-averaged). Negative values carrying at most
``max_negative_share`` of a map's energy are set to 0 and counted in the
manifest and metrics; a map with more is refused, naming the file. For each: the exact diffuse map, its 9-coefficient
SH approximation and coefficients, and Phong maps for n = 1, 16, 32, 64; the
SH approximation's error against the exact map is the stage's metric.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline.io.arrays import load_array, save_array
from pipeline.io.datasets import read_hdri
from pipeline.io.hdr import clear_negatives, find_maps, load_equirect, resize_equirect
from pipeline.io.manifest import MANIFEST, write_table
from pipeline.io.sheet import grid, label, to_picture
from pipeline.light.prefilter import PHONG_EXPONENTS, light_maps
from pipeline.schema.lightmaps import LightmapsParams
from pipeline.seeds import held_out
from pipeline.stage import StageContext, StageResult, stage_main

INPUTS = ("hdri", "real_hdris")
OUTPUTS = ("lightmaps",)


def environments(ctx: StageContext, hdri: Path, real: Path) -> list[dict]:
    """The maps to prefilter: id, split, kind, source, the map at the working size and the
    negative values cleared from it."""
    cfg = ctx.params
    maps = []
    if cfg.procedural:
        for row in read_hdri(hdri).itertuples():
            env, negatives = clear_negatives(hdri / row.path, np.asarray(load_array(hdri / row.path), dtype=np.float32),
                                             cfg.max_negative_share)
            maps.append({"hdri": row.hdri, "split": row.split, "kind": row.kind, "source": row.path,
                         "env": resize_equirect(env, cfg.env_height), "negatives": negatives})
    files = find_maps(real)
    test = held_out(len(files), max(1, round(cfg.real_test_fraction * len(files))) if len(files) > 1 else 0,
                    ctx.base.seed, "real hdri split")
    for path, held in zip(files, test):
        env, negatives = load_equirect(path, cfg.env_height, cfg.max_negative_share)
        maps.append({"hdri": f"real_{path.stem}", "split": "test" if held else "train", "kind": "real",
                     "source": path.name, "env": env, "negatives": negatives})
    return maps


def sh_errors(exact: np.ndarray, approximation: np.ndarray) -> dict[str, float]:
    """Mean and maximum relative error of the SH diffuse map per pixel and channel, and the mean
    absolute error relative to the map's mean (the per-pixel figure explodes where the exact map is
    nearly dark and SH rings, e.g. opposite a sun)."""
    difference = np.abs(approximation - exact)
    relative = difference / np.maximum(exact, 1e-8)
    return {"sh_rel_error_mean": float(relative.mean()), "sh_rel_error_max": float(relative.max()),
            "sh_error_over_mean": float(difference.mean() / max(float(exact.mean()), 1e-12))}


def preview_row(name: str, env: np.ndarray, maps: dict[str, np.ndarray]) -> list[np.ndarray]:
    exposure = 0.5 / max(float(np.percentile(maps["diffuse"], 50)), 1e-6)
    cells = [label(to_picture(env, exposure=exposure), f"{name} map"),
             label(to_picture(maps["diffuse"], exposure=exposure), "diffuse"),
             label(to_picture(maps["diffuse_sh"], exposure=exposure), "diffuse SH9")]
    cells += [label(to_picture(maps["phong"][i], exposure=exposure), f"phong {n}") for i, n in enumerate(PHONG_EXPONENTS)]
    return [c if c.shape[0] >= 64 else np.repeat(np.repeat(c, 64 // c.shape[0], 0), 64 // c.shape[0], 1) for c in cells]


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    out = outputs["lightmaps"]
    rows, errors, previews = [], {}, []
    for entry in tqdm(environments(ctx, inputs["hdri"], inputs["real_hdris"]), desc="light maps", unit="map"):
        name = entry["hdri"]
        maps = light_maps(entry["env"], ctx.params.lightmap_height)
        paths = {"env": f"{name}/env.npy", **{key: f"{name}/{key}.npy" for key in maps}}
        # float32: a real sun (450,000 : 1 from peak to median) overflows float16 at small sizes
        save_array(out / paths["env"], entry["env"], dtype=np.float32)
        for key, array in maps.items():
            save_array(out / paths[key], array, dtype=np.float32)
        errors[name] = sh_errors(maps["diffuse"], maps["diffuse_sh"])
        negatives = entry["negatives"]
        rows.append({**{k: entry[k] for k in ("hdri", "split", "kind", "source")},
                     "negative_pixels": negatives.pixels, "negative_share": negatives.share,
                     "negative_min": negatives.minimum,
                     "env_height": entry["env"].shape[0], "height": ctx.params.lightmap_height,
                     "width": 2 * ctx.params.lightmap_height, "phong_exponents": list(PHONG_EXPONENTS),
                     **errors[name], **paths})
        if len(previews) < 4:
            previews.append(preview_row(name, entry["env"], maps))
    manifest = pd.DataFrame(rows)
    write_table(out / MANIFEST, manifest)
    metrics = {
        "maps": len(manifest), "real_maps": int((manifest["kind"] == "real").sum()),
        "test_maps": int((manifest["split"] == "test").sum()),
        "sh_rel_error_mean": float(manifest["sh_rel_error_mean"].mean()),
        "sh_rel_error_max": float(manifest["sh_rel_error_max"].max()),
        "sh_error_over_mean": float(manifest["sh_error_over_mean"].mean()),
        "maps_with_negatives": int((manifest["negative_pixels"] > 0).sum()),
        "negative_pixels": int(manifest["negative_pixels"].sum()),
        "negative_share_max": float(manifest["negative_share"].max()),
        "per_map": errors,
    }
    return StageResult(metrics=metrics, previews={"light_maps": grid(previews)})


def main(argv: list[str] | None = None) -> int:
    return stage_main("lightmaps", run, schema=LightmapsParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, portable=True)


if __name__ == "__main__":
    raise SystemExit(main())
