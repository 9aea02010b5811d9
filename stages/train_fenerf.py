"""Stage ``train_fenerf``: FENeRF (pi-GAN's FiLM-SIREN with a semantic field and separate geometry and
texture codes; ``pipeline.gan3d.fenerf``) on the poses stage's dataset and its label maps.

It trains as ``train_pigan`` does (``pipeline.gan3d.pigan_training.train``: the curriculum, R1,
top-k, density noise, EMA) with a second discriminator that judges each picture together with its
segmentation, the reals' cropped label maps against the generator's rendered class probabilities.
Writes to ``data/models/fenerf`` what the other GAN stages write (``pipeline.gan3d.snapshots``).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.gan3d.pigan_training import train
from pipeline.schema.train_fenerf import TrainFenerfParams
from pipeline.stage import StageContext, StageResult, stage_main

INPUTS = ("dataset",)
OUTPUTS = ("model",)


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    return train(ctx, inputs, outputs, "train_fenerf")


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_fenerf", run, schema=TrainFenerfParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv,
                      plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
