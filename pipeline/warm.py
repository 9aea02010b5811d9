"""``make install``'s last step: build every cache and compile every kernel the pipeline uses, once,
so that neither ``make repro`` nor ``make test`` pays for it:

- the head model and Warp's ray-casting kernels (``pipeline.synth.head``), outside the repository;
- pymatting's numba kernels for closed-form matting (``evaluate_matting``'s baseline), cached
  beside the package: compiled on first use they cost ``evaluate_matting`` about 45 s of its
  56 s on a 2-core CPU.
"""

from __future__ import annotations

import time

import numpy as np


def warm_closed_form() -> None:
    from pipeline.matting.inference import closed_form

    trimap = np.full((32, 32), 128, np.uint8)
    trimap[:8], trimap[-8:] = 0, 255
    closed_form(np.random.default_rng(0).random((32, 32, 3)), trimap)


def main() -> None:
    from pipeline.synth.head import warm

    for name, step in (("head model and ray-casting kernels", warm), ("closed-form matting kernels", warm_closed_form)):
        start = time.perf_counter()
        step()
        print(f"ready: {name} ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
