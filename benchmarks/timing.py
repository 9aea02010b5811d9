"""The one timing helper the benchmark scripts share (run them as `python benchmarks/<name>.py`)."""

from __future__ import annotations

import time

import numpy as np


def median_seconds(function, repeats: int = 3) -> float:
    """Median wall time of ``repeats`` calls of ``function``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))
