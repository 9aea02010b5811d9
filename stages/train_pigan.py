"""Stage ``train_pigan``: pi-GAN (FiLM-SIREN generator, progressive CoordConv discriminator) on
the poses stage's dataset, the one EG3D trains on.

Writes to ``data/models/pigan`` what ``train_eg3d`` writes (``pipeline.gan3d.snapshots``):
``generator.pt`` (the EMA generator, self-describing), ``snapshots/`` and ``grids/`` every
``snapshot_every`` steps, and ``turntable.mp4``. The curriculum (``recipe.curriculum``) sets
each phase's resolution, batch, rates, samples per ray and fade-in; an interrupted run resumes
in its phase (``pipeline.gan3d.pigan_training``).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.gan3d.pigan_training import train
from pipeline.schema.train_pigan import TrainPiganParams
from pipeline.stage import StageContext, StageResult, stage_main

INPUTS = ("dataset",)
OUTPUTS = ("model",)


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    return train(ctx, inputs, outputs, "train_pigan")


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_pigan", run, schema=TrainPiganParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
