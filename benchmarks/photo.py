"""Time and peak memory of ``lightstage relight`` by photo size, against the nets run at full size.

    .venv/bin/python benchmarks/photo.py [--sizes 512 1024 3000] [--models data/models]

Each run is a fresh ``lightstage relight`` process (automatic trimap, a
procedural sky) on scikit-image's astronaut scaled so that its longer side is
the size (3000: 3000 x 2000, cropped from a larger scale). It prints wall
seconds and the process's peak resident memory with the nets at
``photo.working_size`` (from params.yaml), and, for sizes up to
``--full-up-to``, the same with the nets at the photo's own size (the
behaviour before working sizes), with the ratios, all measured in this run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import load_params  # noqa: E402
from pipeline.io.arrays import save_png  # noqa: E402
from pipeline.io.hdr import write_exr  # noqa: E402
from pipeline.synth.hdri import procedural_sky  # noqa: E402


def photo_of(size: int) -> np.ndarray:
    """The astronaut with its longer side ``size`` (3 : 2 from 1,500 px up, as camera photos are)."""
    import cv2
    from skimage import data

    image = data.astronaut()
    if size < 1500:
        return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if size < 512 else cv2.INTER_CUBIC)
    big = cv2.resize(image, (size, size), interpolation=cv2.INTER_CUBIC)
    margin = size // 6
    return big[:, margin: size - margin]  # (size, 2 size / 3): portrait orientation


PEAK = "peak-rss-kib:"
# the child reports its own peak (getrusage of the parent's children is a running maximum)
CHILD = ("import resource, sys\nfrom pipeline.cli import main\ntry:\n    code = main(sys.argv[1:])\nfinally:\n"
         f"    print('{PEAK}', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(code)")


def run(photo: Path, sky: Path, params: Path, models: Path, out: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one ``lightstage relight`` process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, "relight", str(photo), "--hdri", str(sky), "-o", str(out),
                           "--params", str(params), "--models", str(models)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"lightstage relight failed on {photo}:\n{done.stderr}")
    peak = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith(PEAK))
    return seconds, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 3000])
    parser.add_argument("--full-up-to", type=int, default=1024, help="also run the nets at full size up to this size")
    parser.add_argument("--models", type=Path, default=Path("data/models"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args()
    working = load_params(args.params).section("photo").working_size
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sky = tmp / "sky.exr"
        write_exr(sky, procedural_sky(np.random.default_rng(3), 64).astype(np.float32))
        rows = []
        for size in sorted(args.sizes):
            photo = tmp / f"photo_{size}.png"
            save_png(photo, photo_of(size))
            modes = {"working": working, **({"full": size} if size <= args.full_up_to and size > working else {})}
            for mode, nets_at in modes.items():
                params = yaml.safe_load(args.params.read_text())
                params["photo"]["working_size"] = nets_at
                path = tmp / f"params_{mode}.yaml"
                path.write_text(yaml.safe_dump(params))
                seconds, peak = run(photo, sky, path, args.models, tmp / f"out_{size}_{mode}.png")
                rows.append((size, mode, nets_at, seconds, peak))
                print(f"{size:5d} px, nets at {nets_at:5d}: {seconds:6.1f} s, peak {peak:7.0f} MiB", flush=True)
    print("\nratios (full-size nets / working size), same photo, this run:")
    for size in sorted(args.sizes):
        both = {mode: (s, m) for sz, mode, _, s, m in rows if sz == size}
        if "full" in both:
            print(f"{size:5d} px: time {both['full'][0] / both['working'][0]:.2f}x, peak memory "
                  f"{both['full'][1] / both['working'][1]:.2f}x")


if __name__ == "__main__":
    main()
