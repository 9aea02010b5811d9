"""Stage ``synth``: the raw data every later stage reads.

With ``base.source: synthetic`` it renders the synthetic light stage (OLAT
stacks with G-buffers, procedural HDR maps); with a folder it validates a real
dataset in the same layout and copies it in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.config import SYNTHETIC
from pipeline.io.datasets import import_raw
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.synth.dataset import SynthSpec, write_hdris, write_lightstage
from pipeline.synth.preview import hdri_sheet, lightstage_sheet

OUTPUTS = ("lightstage", "hdri")


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    if ctx.base.source == SYNTHETIC:
        spec = SynthSpec(seed=ctx.base.seed, **ctx.params.model_dump())
        manifest, lights = write_lightstage(outputs["lightstage"], spec)
        hdris = write_hdris(outputs["hdri"], spec)
    else:
        manifest, lights, hdris = import_raw(Path(ctx.base.source), outputs["lightstage"], outputs["hdri"])
    peaks = hdris["peak"].to_numpy() / np.maximum(hdris["median"].to_numpy(), 1e-12) if "peak" in hdris else np.array([np.nan])
    metrics = {
        "subjects": int(manifest["subject"].nunique()),
        "test_subjects": int(manifest.loc[manifest["split"] == "test", "subject"].nunique()),
        "views": int(len(manifest)),
        "lights": int(len(lights)),
        "solid_angle_sum": float(lights["solid_angle"].sum()),
        "hdris": int(len(hdris)),
        "test_hdris": int((hdris["split"] == "test").sum()),
        "hdri_min_dynamic_range": float(np.nanmin(peaks)),
    }
    previews = {
        "lightstage": lightstage_sheet(outputs["lightstage"], manifest, lights),
        "hdri": hdri_sheet(outputs["hdri"], hdris),
    }
    return StageResult(metrics=metrics, previews=previews)


def main(argv: list[str] | None = None) -> int:
    return stage_main("synth", run, outputs=OUTPUTS, argv=argv)


if __name__ == "__main__":
    raise SystemExit(main())
