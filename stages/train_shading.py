"""Stage ``train_shading``: Specular Net and Neural Renderer, trained together, last.

``train_shading.intrinsics`` chooses the normals and albedo they train on:
``predicted`` (the trained Geometry and Albedo Nets', with light maps looked up
at the predicted normals: what the chain feeds at inference; the default) or
``true``. The relit foreground is matched with L1, a specular-weighted L1, a
multi-scale gradient L1 (stand-in for the perceptual term) and, when
``adversarial_weight`` > 0, a WGAN-GP critic.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import torch
from tqdm import tqdm

from pipeline.config import flatten
from pipeline.io.sheet import grid, label, to_picture
from pipeline.lineage import dvc_md5
from pipeline.light.pairs import view_light_maps
from pipeline.models import checkpoint
from pipeline.nn.critic import CriticConfig, PatchCritic
from pipeline.relighting.chain import MODEL_FILE, RelightingChain
from pipeline.relighting.data import RelightSample, training_samples
from pipeline.relighting.training import BatchShape, ShadingWeights, shading_step
from pipeline.schema.train_shading import TrainShadingParams
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.training import LoopSettings, fit, loss_summary

INPUTS = ("relight", "lightstage", "lightmaps", "geometry", "albedo")
OUTPUTS = ("shading",)
PREVIEWS = 4


def with_predicted_intrinsics(samples: list[RelightSample], chain: RelightingChain) -> list[RelightSample]:
    """Each sample with the chain's normals and albedo, and light maps looked up at those normals."""
    out = []
    for s in tqdm(samples, desc="predict intrinsics", unit="image"):
        normals = chain.predict_normals(s.image)
        diffuse, specular = view_light_maps(normals, s.alpha, s.camera, s.environment)
        out.append(replace(s, normals=normals, albedo=chain.predict_albedo(s.image, normals),
                           diffuse=diffuse * s.scale, specular=specular * s.scale))
    return out


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg = ctx.params
    samples = training_samples(inputs["relight"], inputs["lightstage"], inputs["lightmaps"], cfg.crop)
    chain = RelightingChain.load(inputs["geometry"], inputs["albedo"])
    if cfg.intrinsics == "predicted":
        samples = with_predicted_intrinsics(samples, chain)
    params = {**flatten(ctx.base, "base"), **flatten(cfg, "train_shading")}
    data_hashes = {name: dvc_md5(path) for name, path in inputs.items()}
    torch.manual_seed(ctx.base.seed)
    net = cfg.model.build()
    modules = {"shading": net}
    if cfg.adversarial_weight > 0:
        modules["critic"] = PatchCritic(CriticConfig(in_channels=3))
    weights = ShadingWeights(cfg.loss_l1, cfg.loss_specular, cfg.loss_gradient, cfg.adversarial_weight)
    step = partial(shading_step, samples=samples, shape=BatchShape(cfg.batch, cfg.crop), weights=weights)
    settings = LoopSettings(cfg.steps, cfg.learning_rate, cfg.checkpoint_every, ctx.base.seed, "shading")
    loop, resumed = fit(modules, step, settings, ctx.work_dir or outputs["shading"], params, data_hashes, critics=("critic",))
    checkpoint.save(outputs["shading"] / MODEL_FILE, checkpoint.model_payload(net, params, data_hashes, steps=cfg.steps))
    curve, finals = loss_summary(loop.history)
    chain, preview = RelightingChain(chain.geometry, chain.albedo, net), []
    for s in samples[:: max(1, len(samples) // PREVIEWS)][:PREVIEWS]:
        relit = chain.shade(s.image, s.alpha, s.normals, s.albedo, s.camera, s.environment).relit
        exposure = s.exposure / s.scale
        preview.append([label(to_picture(s.image, "scalar"), s.name[:16]), label(to_picture(relit, exposure=s.exposure), "relit"),
                        label(to_picture(s.target, exposure=exposure), "true")])
    metrics = {"parameters": {name: sum(p.numel() for p in part.parameters()) for name, part in modules.items()},
               "training_samples": len(samples), "steps": cfg.steps, "resumed_from_step": resumed, **finals}
    return StageResult(metrics=metrics, history=loop.history, plot=curve, previews={"relit": grid(preview)})


def main(argv: list[str] | None = None) -> int:
    return stage_main("train_shading", run, schema=TrainShadingParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv, plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
