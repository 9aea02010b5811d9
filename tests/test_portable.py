"""The CPU kernel caps of the data stages reach every numerical library, and a data stage
relaunches itself under them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.portable import CAPS, MARKER_ENV, NATIVE_ENV, capped_environment, is_x86_64, warp_cpu_flags
from tests.conftest import ROOT, tool_env

pytestmark = pytest.mark.skipif(not is_x86_64(), reason="the caps apply to x86-64 CPUs only")

PROBE = """
import json, cv2, numpy, torch, threadpoolctl
from numpy._core._multiarray_umath import __cpu_features__ as numpy_features
blas = [i.get("architecture") for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"]
print(json.dumps({"numpy_avx512": any(numpy_features[f] for f in ("X86_V4", "AVX512_ICL", "AVX512_SPR") if f in numpy_features),
                  "numpy_avx2": numpy_features["X86_V3"], "openblas": blas,
                  "opencv_avx512": "AVX512-SKX" in cv2.getCPUFeaturesLine().replace("AVX512-SKX?", ""),
                  "torch": torch.backends.cpu.get_cpu_capability()}))
"""


def probe(env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def clean_env() -> dict[str, str]:
    return {k: v for k, v in tool_env().items() if k not in CAPS and k not in (MARKER_ENV, NATIVE_ENV)}


def test_the_caps_reach_numpy_openblas_opencv_and_torch():
    capped, native = probe(capped_environment(clean_env())), probe({**clean_env(), NATIVE_ENV: "1"})
    if not native["numpy_avx2"]:
        pytest.skip("this CPU has no AVX2: the data stages' bytes are not portable here")
    assert not capped["numpy_avx512"] and capped["numpy_avx2"]
    assert capped["openblas"] and set(capped["openblas"]) == {"Haswell"}
    assert not capped["opencv_avx512"]
    assert capped["torch"] == "AVX2"
    if native["numpy_avx512"]:  # on a CPU with AVX-512 the caps change what runs
        assert native["torch"] == "AVX512" and set(native["openblas"]) != {"Haswell"} and native["opencv_avx512"]


def test_relaunch_only_once_and_never_when_lifted():
    env = capped_environment(clean_env())
    assert env is not None and env[MARKER_ENV] == "1"
    assert capped_environment(env) is None  # the relaunched process runs as it is
    assert capped_environment({**clean_env(), NATIVE_ENV: "1"}) is None
    assert capped_environment({**clean_env(), "OPENBLAS_CORETYPE": "Zen"})["OPENBLAS_CORETYPE"] == "Zen"  # the user's own


def test_warp_compiles_for_x86_64_v3(monkeypatch):
    monkeypatch.delenv(NATIVE_ENV, raising=False)
    flags = warp_cpu_flags("-march=native -mllvm=-inline-threshold=9000")
    assert flags == "-target-cpu x86-64-v3 -mllvm=-inline-threshold=9000"
    assert warp_cpu_flags(flags) == flags


def test_a_relaunched_stage_passes_its_error_and_exit_code_through(tmp_path):
    """``python -m stages.trimaps`` with a missing input: the relaunched, capped process's exit
    code and message come through, and nothing is written."""
    done = subprocess.run([sys.executable, "-m", "stages.trimaps", "--no-track", "--lightstage", str(tmp_path / "none"),
                           "--trimaps", str(tmp_path / "out"), "--metrics", str(tmp_path / "m.json")],
                          cwd=ROOT, env=clean_env(), capture_output=True, text=True)
    assert done.returncode == 2 and "none" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_data_stage_relaunches_itself_with_the_caps_and_a_training_stage_does_not(monkeypatch):
    import pipeline.stage
    from stages import train_geometry, trimaps

    calls = []
    monkeypatch.setattr(pipeline.stage.subprocess, "run",
                        lambda command, env: calls.append((command, env)) or subprocess.CompletedProcess(command, 0))
    for key in (*CAPS, MARKER_ENV, NATIVE_ENV):
        monkeypatch.delenv(key, raising=False)
    assert trimaps.main(["--lightstage", "somewhere"]) == 0
    (command, env), = calls
    assert command == [sys.executable, "-m", "stages.trimaps", "--lightstage", "somewhere"]
    assert {k: env[k] for k in CAPS} == CAPS and env[MARKER_ENV] == "1"
    with pytest.raises(SystemExit):  # parses its own arguments (here: none given) instead of relaunching
        train_geometry.main(["--no-such-option"])
    assert len(calls) == 1
