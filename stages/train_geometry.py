"""Stage ``train_geometry``: the Geometry Net (foreground -> normals), first of the relighting module.

Writes a self-describing model file and the loss curve; an interrupted run
resumes from its last checkpoint when rerun with the same params and data.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch

from pipeline.config import flatten
from pipeline.lineage import dvc_md5
from pipeline.models import checkpoint
from pipeline.relighting.chain import MODEL_FILE, RelightingChain
from pipeline.relighting.data import training_samples
from pipeline.relighting.training import BatchShape, geometry_step, preview_grid, run_metrics
from pipeline.schema.train_geometry import TrainGeometryParams
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.training import LoopSettings, fit, loss_summary

INPUTS = ("relight", "lightstage", "lightmaps")
OUTPUTS = ("geometry",)


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg = ctx.params
    samples = training_samples(inputs["relight"], inputs["lightstage"], inputs["lightmaps"], cfg.crop)
    params = {**flatten(ctx.base, "base"), **flatten(cfg, "train_geometry")}
    data_hashes = {name: dvc_md5(path) for name, path in inputs.items()}
    torch.manual_seed(ctx.base.seed)
    net = cfg.model.build()
    step = partial(geometry_step, samples=samples, shape=BatchShape(cfg.batch, cfg.crop), l1=cfg.loss_l1, angular=cfg.loss_angular)
    settings = LoopSettings(cfg.steps, cfg.learning_rate, cfg.checkpoint_every, ctx.base.seed, "geometry")
    loop, resumed = fit({"geometry": net}, step, settings, ctx.work_dir or outputs["geometry"], params, data_hashes)
    checkpoint.save(outputs["geometry"] / MODEL_FILE, checkpoint.model_payload(net, params, data_hashes, steps=cfg.steps))
    curve, finals = loss_summary(loop.history)
    chain = RelightingChain(net)
    preview = preview_grid(samples, lambda s: chain.predict_normals(s.image), lambda s: s.normals, "vectors")
    return StageResult(metrics=run_metrics(net, samples, cfg.steps, resumed, finals), history=loop.history, plot=curve,
                       previews={"normals": preview})


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_geometry", run, schema=TrainGeometryParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
