"""Exact prefiltering vs SH9 vs the reference loop, timed in one run.

    .venv/bin/python benchmarks/lightmaps.py

The reference loop (pure Python, one light-map pixel and one map pixel at a
time) is timed on a small map and scaled by the pixel-pair count, which it is
linear in; exact and SH are timed at the default sizes too.
"""

from __future__ import annotations

import time

import numpy as np

from pipeline.light.equirect import pixel_directions
from pipeline.light.prefilter import diffuse_map, phong_map
from pipeline.light.sh import project_sh, sh_diffuse
from pipeline.light.reference import loop_filter


def seconds(function, repeats: int = 3) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    small, small_out = rng.uniform(0, 1, (8, 16, 3)), 4
    loop = seconds(lambda: loop_filter(small, small_out, 1.0, 1 / np.pi), 1)
    exact_small = seconds(lambda: diffuse_map(small, small_out))
    sh_small = seconds(lambda: sh_diffuse(project_sh(small), pixel_directions(small_out)))
    print(f"small map 8x16 -> 4x8 grid (diffuse): loop {loop:.4f} s, exact {exact_small:.6f} s, SH {sh_small:.6f} s")
    print(f"  ratios: loop / exact = {loop / exact_small:.0f}x, exact / SH = {exact_small / sh_small:.1f}x")

    env, out = rng.uniform(0, 1, (64, 128, 3)), 32
    exact = seconds(lambda: diffuse_map(env, out))
    phong = seconds(lambda: phong_map(env, out, 64))
    sh = seconds(lambda: sh_diffuse(project_sh(env), pixel_directions(out)))
    pairs_ratio = (64 * 128 * out * 2 * out) / (8 * 16 * small_out * 2 * small_out)
    print(f"default map 64x128 -> 32x64 grid: exact diffuse {exact:.4f} s, Phong n=64 {phong:.4f} s, SH9 {sh:.5f} s, "
          f"reference loop (extrapolated) {loop * pairs_ratio:.0f} s")
    print(f"  ratios: loop / exact = {loop * pairs_ratio / exact:.0f}x, exact / SH = {exact / sh:.1f}x, Phong / exact = {phong / exact:.2f}x")


if __name__ == "__main__":
    main()
