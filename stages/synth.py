"""Stage ``synth``: the raw data every later stage reads.

With ``base.source: synthetic`` it renders the synthetic light stage (OLAT
stacks with G-buffers, procedural HDR maps, the face set and its true cameras);
with a folder it validates a real dataset in the same layout and copies it in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.io.datasets import import_raw
from pipeline.schema.base import SYNTHETIC
from pipeline.schema.synth import SynthParams
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.synth.dataset import SynthSpec, write_faces, write_hdris, write_lightstage
from pipeline.synth.preview import contact_sheet, face_alpha_statistics

OUTPUTS = ("lightstage", "hdri", "faces", "faces_truth")


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    if ctx.base.source == SYNTHETIC:
        spec = SynthSpec(seed=ctx.base.seed, **ctx.params.model_dump())
        manifest, lights = write_lightstage(outputs["lightstage"], spec)
        hdris = write_hdris(outputs["hdri"], spec)
        faces = write_faces(outputs["faces"], outputs["faces_truth"], outputs["hdri"], hdris, spec)
    else:
        tables = import_raw(Path(ctx.base.source), outputs)
        manifest, lights, hdris, faces = tables["lightstage"], tables["lights"], tables["hdri"], tables["faces"]
    fractional = face_alpha_statistics(outputs["lightstage"], manifest)
    dynamic_range = hdris["peak"] / hdris["median"].clip(lower=1e-12) if "peak" in hdris else np.array([np.nan])
    metrics = {
        "subjects": int(manifest["subject"].nunique()),
        "test_subjects": int(manifest.loc[manifest["split"] == "test", "subject"].nunique()),
        "views": int(len(manifest)),
        "lights": int(len(lights)),
        "solid_angle_sum": float(lights["solid_angle"].sum()),
        "hdris": int(len(hdris)),
        "test_hdris": int((hdris["split"] == "test").sum()),
        "hdri_min_dynamic_range": float(np.nanmin(dynamic_range)),
        "faces": int(len(faces)),
        "test_faces": int((faces["split"] == "test").sum()),
        "fractional_alpha_min": float(fractional.min()),
        "fractional_alpha_mean": float(fractional.mean()),
    }
    sheet = contact_sheet(outputs["lightstage"], manifest, lights, outputs["hdri"], hdris, outputs["faces"], faces)
    return StageResult(metrics=metrics, previews={"contact_sheet": sheet})


def main(argv: list[str] | None = None) -> int:
    return stage_main("synth", run, schema=SynthParams, outputs=OUTPUTS, argv=argv, portable=True)


if __name__ == "__main__":
    raise SystemExit(main())
