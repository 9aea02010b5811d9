"""Stage ``train_albedo``: the Albedo Net (foreground + normals -> albedo), after the Geometry Net.

``train_albedo.normals`` chooses the normals it trains on: ``predicted`` (the
trained Geometry Net's, what it is fed at inference; the default) or ``true``.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import torch

from pipeline.config import flatten
from pipeline.lineage import dvc_md5
from pipeline.models import checkpoint
from pipeline.relighting.chain import MODEL_FILE, RelightingChain
from pipeline.relighting.data import training_samples
from pipeline.relighting.training import BatchShape, albedo_step, preview_grid, run_metrics
from pipeline.schema.train_albedo import TrainAlbedoParams
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.training import LoopSettings, fit, loss_summary

INPUTS = ("relight", "lightstage", "lightmaps", "geometry")
OUTPUTS = ("albedo",)


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg = ctx.params
    samples = training_samples(inputs["relight"], inputs["lightstage"], inputs["lightmaps"], cfg.crop)
    geometry = RelightingChain.load(inputs["geometry"]).geometry
    if cfg.normals == "predicted":
        chain = RelightingChain(geometry)
        samples = [replace(s, normals=chain.predict_normals(s.image)) for s in samples]
    params = {**flatten(ctx.base, "base"), **flatten(cfg, "train_albedo")}
    data_hashes = {name: dvc_md5(path) for name, path in inputs.items()}
    torch.manual_seed(ctx.base.seed)
    net = cfg.model.build()
    step = partial(albedo_step, samples=samples, shape=BatchShape(cfg.batch, cfg.crop), l1=cfg.loss_l1, gradient=cfg.loss_gradient)
    settings = LoopSettings(cfg.steps, cfg.learning_rate, cfg.checkpoint_every, ctx.base.seed, "albedo")
    loop, resumed = fit({"albedo": net}, step, settings, ctx.work_dir or outputs["albedo"], params, data_hashes)
    checkpoint.save(outputs["albedo"] / MODEL_FILE, checkpoint.model_payload(net, params, data_hashes, steps=cfg.steps))
    curve, finals = loss_summary(loop.history)
    chain = RelightingChain(geometry, net)
    preview = preview_grid(samples, lambda s: chain.predict_albedo(s.image, s.normals), lambda s: s.albedo, "scalar")
    return StageResult(metrics=run_metrics(net, samples, cfg.steps, resumed, finals), history=loop.history, plot=curve,
                       previews={"albedo": preview})


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_albedo", run, schema=TrainAlbedoParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
