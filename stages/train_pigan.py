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

import torch

from pipeline import DataError
from pipeline.gan3d.data import FaceSet, GanSamples
from pipeline.gan3d.pigan_training import pigan_optimizers, PiganStep
from pipeline.gan3d.snapshots import finish, Previews, Snapshots
from pipeline.schema.train_pigan import TrainPiganParams
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.training import run_identity, Trainer, TrainSettings

INPUTS = ("dataset",)
OUTPUTS = ("model",)


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg, device, out = ctx.params, ctx.execution.device, outputs["model"]
    recipe = cfg.recipe
    largest = max(phase.resolution for phase in recipe.curriculum)
    native = FaceSet.native(inputs["dataset"], preload=False).resolution
    if native < largest:
        raise DataError(f"{inputs['dataset']}: images are {native} px, smaller than the curriculum's largest "
                        f"resolution ({largest}, train_pigan.recipe.curriculum)")
    faces = FaceSet(inputs["dataset"], largest, cfg.preload)  # each phase brings the reals down to its side
    identity = run_identity(ctx.base, cfg, "train_pigan", inputs)
    torch.manual_seed(ctx.base.seed)
    generator, discriminator = cfg.model.build(), cfg.discriminator.build()
    settings = TrainSettings(cfg.steps, recipe.curriculum[-1].batch, cfg.checkpoint_every, ctx.base.seed, "pigan",
                             ctx.execution.workers, cfg.precision, batch_phases=recipe.batch_phases)
    trainer = Trainer({"generator": generator, "discriminator": discriminator},
                      pigan_optimizers(generator, discriminator, recipe), settings, device,
                      averages={"generator": recipe.ema_half_life})
    work = ctx.work_dir or out
    previews = Previews(cfg.grid_seeds, 1.0, cfg.turntable_frames)
    trainer.fit(GanSamples(faces, cfg.model.mapping.z_dim, ctx.base.seed), PiganStep(recipe), work, identity.fingerprint,
                ctx.log_history, after_step=Snapshots(work, cfg.snapshot_every, previews, identity, ctx.log_history))
    return finish(trainer, identity, work, out, previews, images=len(faces))


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_pigan", run, schema=TrainPiganParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
