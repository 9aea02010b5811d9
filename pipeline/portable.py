"""The same data bytes on any x86-64 CPU with AVX2: the numerical libraries' kernel choice, capped.

NumPy, OpenBLAS, OpenCV and PyTorch (ATen, MKL, oneDNN) choose vectorised kernels by the CPU
when they load. Their AVX-512 kernels round differently from their AVX2 ones (NumPy's SVML
``exp``, ``power``, ``arctan2``...; OpenBLAS's SkylakeX GEMM; wider partial sums), so a machine
with AVX-512 and one without wrote synthetic data that differed in their last bits, and every
hash and metric downstream changed. The data stages (``synth``, ``lightmaps``, ``relight``,
``trimaps``) therefore run with every library capped at AVX2 (x86-64-v3), which any x86-64 CPU of
the last ten years has, and Warp compiles its CPU kernels for x86-64-v3 rather than for the host.
The caps must be set before the libraries load, so a data stage relaunches itself once with them
(``stage_main``); ``LIGHTSTAGE_NATIVE_CPU=1`` lifts them (faster on AVX-512 CPUs, but the bytes
are then the machine's own). Training stages keep the host's kernels (bfloat16 training needs
AVX-512): their results agree across CPUs within the tolerances of ``pipeline/check.py``.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping

NATIVE_ENV = "LIGHTSTAGE_NATIVE_CPU"
MARKER_ENV = "LIGHTSTAGE_PORTABLE"  # set in a capped process: do not relaunch again

CAPS = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V4,AVX512_ICL,AVX512_SPR",  # NumPy's dispatch targets above X86_V3 (AVX2)
    "OPENBLAS_CORETYPE": "Haswell",  # OpenBLAS's AVX2 kernels (NumPy's and SciPy's)
    "OPENCV_CPU_DISABLE": "AVX512-SKX",  # OpenCV's only dispatch target above AVX2 (its name for it)
    "ATEN_CPU_CAPABILITY": "avx2",  # PyTorch's own vectorised kernels
    "MKL_CBWR": "AVX2",  # MKL (PyTorch's BLAS): conditional numerical reproducibility on the AVX2 code path
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN (PyTorch's convolutions)
}
WARP_TARGET = "x86-64-v3"


def is_x86_64() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64")


def native(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the caps are lifted (``LIGHTSTAGE_NATIVE_CPU=1``) or do not apply (not x86-64)."""
    return environ.get(NATIVE_ENV, "").strip() not in ("", "0") or not is_x86_64()


def capped_environment(environ: Mapping[str, str]) -> dict[str, str] | None:
    """``environ`` with the caps, for relaunching a data stage; None when no relaunch is needed
    (already capped, lifted, or not x86-64). A cap the user set already is kept as set."""
    if environ.get(MARKER_ENV) == "1" or native(environ):
        return None
    return {**CAPS, **environ, MARKER_ENV: "1"}


def warp_cpu_flags(default: str) -> str:
    """Warp's CPU compiler flags with the host target (``-march=native``) replaced by x86-64-v3
    (Warp passes them to Clang's frontend, which takes a target CPU as ``-target-cpu``)."""
    if native():
        return default
    return " ".join(f"-target-cpu {WARP_TARGET}" if flag == "-march=native" else flag for flag in default.split())
