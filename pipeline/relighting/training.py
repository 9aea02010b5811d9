"""One training step of each relighting network, and the losses they minimise.

Geometry: L1 and angle on normals. Albedo: L1 and multi-scale gradient L1 (our
stand-in for the perceptual term, pipeline.nn.losses). Shading: on the relit
foreground L1, L1 weighted by the luminance of S_hat (highlights, as the paper's
specular loss) and multi-scale gradient L1, plus a WGAN-GP adversarial term.
All losses are over the foreground (alpha > 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from pipeline import distributed
from pipeline.io.arrays import save_array
from pipeline.io.sheet import grid, label, to_picture
from pipeline.light.pairs import view_light_maps
from pipeline.light.tonemap import LUMINANCE
from pipeline.models.relighting import AlbedoNet, GeometryNet, ShadingNet
from pipeline.nn.critic import CriticConfig
from pipeline.nn.losses import angular_error, masked_l1, multiscale_gradient_l1
from pipeline.relighting.chain import RelightingChain
from pipeline.relighting.data import RelightBatch, RelightCrops, RelightSample, SampleRef, load_sample
from pipeline.training import adversarial_terms, CropPhase, CropPlan, Trainer, history_summary

_LUMINANCE = torch.tensor(LUMINANCE, dtype=torch.float32).view(1, 3, 1, 1)


def shading_critic(widths: list[int] | tuple[int, ...]) -> CriticConfig:
    """The shading critic (``train_shading.critic_widths``): it sees the relit foreground (``critic_view``)."""
    return CriticConfig(in_channels=3, widths=tuple(widths))


# What each step reads from a batch: the loader reads only these arrays.
GEOMETRY_FIELDS = ("image", "alpha", "normals")
ALBEDO_FIELDS = ("image", "alpha", "normals", "albedo")
SHADING_FIELDS = ("image", "alpha", "albedo", "diffuse", "specular", "target")


def _descend(trainer: Trainer, name: str, losses: dict[str, torch.Tensor]) -> dict[str, float]:
    trainer.descend(name, losses["total"])
    return {key: float(value.detach()) for key, value in losses.items()}


def geometry_losses(net: GeometryNet, batch: RelightBatch, l1: float, angular: float) -> dict[str, torch.Tensor]:
    normals, mask = net(batch.image), (batch.alpha > 0).float()
    losses = {"l1": masked_l1(normals, batch.normals, mask), "angular": angular_error(normals, batch.normals, mask)}
    losses["total"] = l1 * losses["l1"] + angular * losses["angular"]
    return losses


def geometry_step(trainer: Trainer, batch: RelightBatch, l1: float, angular: float) -> dict[str, float]:
    return _descend(trainer, "geometry", geometry_losses(trainer.modules["geometry"], batch, l1, angular))


def albedo_losses(net: AlbedoNet, batch: RelightBatch, l1: float, gradient: float) -> dict[str, torch.Tensor]:
    albedo, mask = net(batch.image, batch.normals), (batch.alpha > 0).float()
    losses = {"l1": masked_l1(albedo, batch.albedo, mask), "gradient": multiscale_gradient_l1(albedo, batch.albedo, mask)}
    losses["total"] = l1 * losses["l1"] + gradient * losses["gradient"]
    return losses


def albedo_step(trainer: Trainer, batch: RelightBatch, l1: float, gradient: float) -> dict[str, float]:
    return _descend(trainer, "albedo", albedo_losses(trainer.modules["albedo"], batch, l1, gradient))


@dataclass(frozen=True)
class ShadingWeights:
    l1: float
    specular: float
    gradient: float
    adversarial: float  # 0: no critic
    penalty_every: int = 1  # the critic's gradient penalty every this many steps (lazy regularisation)

    @classmethod
    def from_params(cls, cfg) -> ShadingWeights:
        """The weights the ``train_shading`` section ``cfg`` asks for."""
        return cls(cfg.loss_l1, cfg.loss_specular, cfg.loss_gradient, cfg.adversarial_weight, cfg.penalty_every)


def critic_view(relit: torch.Tensor) -> torch.Tensor:
    """What the critic sees: relit radiance compressed to [0, 1) by x / (1 + x) (B, 3, H, W)."""
    return relit / (1.0 + relit.clamp_min(0.0))


def shading_losses(net: ShadingNet, batch: RelightBatch, weights: ShadingWeights) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The losses and the predicted relit foreground (premultiplied)."""
    out = net(batch.image, batch.albedo, batch.diffuse, batch.specular)
    relit, mask = out.relit * batch.alpha, (batch.alpha > 0).float()
    highlight = (out.specular_hat.detach() * _LUMINANCE.to(out.specular_hat.device)).sum(dim=1, keepdim=True) * mask
    mean = highlight.sum(dim=(1, 2, 3), keepdim=True).div(mask.sum(dim=(1, 2, 3), keepdim=True).clamp_min(1))
    highlight = highlight / mean.clamp_min(1e-6)  # weights of mean one over each foreground
    losses = {"l1": masked_l1(relit, batch.target, mask),
              "specular": masked_l1(relit * highlight, batch.target * highlight, mask),
              "gradient": multiscale_gradient_l1(relit, batch.target, mask)}
    losses["total"] = weights.l1 * losses["l1"] + weights.specular * losses["specular"] + weights.gradient * losses["gradient"]
    return losses, relit


def shading_step(trainer: Trainer, batch: RelightBatch, weights: ShadingWeights) -> dict[str, float]:
    losses, relit = shading_losses(trainer.modules["shading"], batch, weights)
    if weights.adversarial > 0:
        losses |= adversarial_terms(trainer, critic_view(batch.target), critic_view(relit), batch.mix, weights.penalty_every)
        losses["total"] = losses["total"] + weights.adversarial * losses["adversarial"]
    # the critic's own loss is already stepped; only the generator's total descends below
    return _descend(trainer, "shading", losses)


def write_intrinsics(refs: list[SampleRef], chain: RelightingChain, folder: Path, light_maps: bool) -> Path:
    """The trained nets' normals and albedo of every training sample (and, with ``light_maps``,
    the light maps looked up at those normals), one small file per array in ``folder``, so
    training reads them on demand as it reads the data (RelightCrops' ``intrinsics``)."""
    for index, ref in enumerate(tqdm(refs, desc="predict intrinsics", unit="image")):
        sample = load_sample(ref)
        arrays = {"normals": chain.predict_normals(sample.image)}
        arrays["albedo"] = chain.predict_albedo(sample.image, arrays["normals"]) if chain.albedo is not None else sample.albedo
        if light_maps:
            diffuse, specular = view_light_maps(arrays["normals"], sample.alpha, sample.camera, sample.environment)
            arrays.update(diffuse=diffuse * sample.scale, specular=specular * sample.scale)
        else:
            arrays.update(diffuse=sample.diffuse, specular=sample.specular)
        for key, array in arrays.items():
            save_array(folder / f"{index:06d}_{key}.npy", array)
    return folder


def preview_grid(samples: list[RelightSample], predict: Callable[[RelightSample], np.ndarray],
                 truth: Callable[[RelightSample], np.ndarray], kind: str, count: int = 4) -> np.ndarray:
    """Input | prediction | truth, masked by alpha, for the first ``count`` samples."""
    rows = []
    for sample in samples[:count]:
        mask = sample.alpha[..., None]
        rows.append([label(to_picture(sample.image, "scalar"), sample.name[:16]),
                     label(to_picture(predict(sample) * mask, kind), "predicted"), label(to_picture(truth(sample) * mask, kind), "true")])
    return grid(rows)


@dataclass(frozen=True)
class NetRun:
    """A relighting net's training run, as its stage reports it."""

    refs: list[SampleRef]
    intrinsics: Path | None
    resumed: int
    curve: object  # the loss curve (pandas DataFrame) for dvc plots
    finals: dict[str, float]
    pixel_share: float  # pixels trained, as a share of full-size crops throughout


def fit_net(trainer: Trainer, step: Callable, fields: tuple[str, ...], refs: list[SampleRef], crop: int, seed: int,
            work: Path, tag: str, log_history: Callable | None, chain: RelightingChain | None = None,
            light_maps: bool = False, early_crops: tuple[CropPhase, ...] = ()) -> NetRun:
    """Train ``step`` on crops of ``refs`` (the arrays in ``fields``, read on demand), of ``crop``
    pixels after any ``early_crops`` phases; with ``chain``, on the intrinsics it predicts (written
    to ``work`` first, see ``write_intrinsics``)."""
    folder = work / f"intrinsics-rank{distributed.rank()}"  # each process its own: no two write one file
    intrinsics = write_intrinsics(refs, chain, folder, light_maps) if chain is not None else None
    crops = CropPlan(crop, tuple(early_crops))
    resumed = trainer.fit(RelightCrops(refs, crops, seed, intrinsics, fields), step, work, tag, log_history)
    curve, finals = history_summary(work)
    return NetRun(refs, intrinsics, resumed, curve, finals, crops.pixel_share(trainer.settings.steps))


def run_metrics(modules: dict[str, torch.nn.Module], run: NetRun, steps: int) -> dict:
    """What a training stage reports besides its losses."""
    counts = {name: sum(p.numel() for p in m.parameters()) for name, m in modules.items()}
    return {"parameters": counts if len(counts) > 1 else next(iter(counts.values())), "training_samples": len(run.refs),
            "steps": steps, "pixel_share": run.pixel_share, "resumed_from_step": run.resumed, **run.finals}


def preview_samples(run: NetRun, count: int = 4) -> list[RelightSample]:
    """``count`` whole training samples spread over the set (with the intrinsics it trained on)."""
    picks = list(range(0, len(run.refs), max(1, len(run.refs) // count)))[:count]
    return [load_sample(run.refs[k], intrinsics=run.intrinsics, index=k) for k in picks]
