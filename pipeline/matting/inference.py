"""Running a matting method on one image: the network, and closed-form matting as the baseline."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch.nn import functional as F

from pipeline.matting.guidance import colour_guidance
from pipeline.matting.trimap import BACKGROUND, FOREGROUND, trimap_classes
from pipeline.models.matting import MattingNet, MattingOutput

REFINED_VALUES = np.array([BACKGROUND, 128, FOREGROUND], dtype=np.uint8)


class Matte(NamedTuple):
    alpha: np.ndarray  # (H, W) in [0, 1]
    foreground: np.ndarray  # (H, W, 3) sRGB in [0, 1]
    refined_trimap: np.ndarray  # (H, W) uint8 0 / 128 / 255


def _network(model: MattingNet, image: np.ndarray, trimap: np.ndarray) -> MattingOutput:
    """One pass of the network: its outputs (1, C, H, W) on the CPU, cropped back to the image."""
    height, width = trimap.shape
    pad_h, pad_w = (-height) % model.divisor, (-width) % model.divisor
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
    t = F.one_hot(torch.from_numpy(trimap_classes(trimap)), 3).permute(2, 0, 1)[None].float()
    g = torch.from_numpy(colour_guidance(image.astype(np.float32), trimap)).permute(2, 0, 1)[None]
    device = next(model.parameters()).device
    x, t, g = (F.pad(v, (0, pad_w, 0, pad_h), mode="replicate").to(device) for v in (x, t, g))
    return MattingOutput(*(v[..., :height, :width].cpu() for v in model(x, t, g)))


def _matte(out: MattingOutput, trimap: np.ndarray, clamp_known: bool) -> Matte:
    alpha = out.alpha[0, 0].numpy().astype(np.float64)
    if clamp_known:
        alpha = np.where(trimap == FOREGROUND, 1.0, np.where(trimap == BACKGROUND, 0.0, alpha))
    refined = REFINED_VALUES[out.trimap_logits[0].argmax(0).numpy()]
    return Matte(alpha=alpha, foreground=out.foreground[0].permute(1, 2, 0).numpy(), refined_trimap=refined)


@torch.no_grad()
def predict_passes(model: MattingNet, image: np.ndarray, trimap: np.ndarray, clamp_known: bool) -> tuple[Matte, Matte]:
    """(the mirror-averaged matte ``predict`` gives, the first pass's alone): the network also sees
    the image mirrored left to right, and the first matte is the mean of the two passes'
    outputs (test-time augmentation; the training crops are mirrored at random too)."""
    out = _network(model, image, trimap)
    flipped = _network(model, np.ascontiguousarray(image[:, ::-1]), np.ascontiguousarray(trimap[:, ::-1]))
    averaged = MattingOutput(*((a + b.flip(-1)) / 2 for a, b in zip(out, flipped)))
    return _matte(averaged, trimap, clamp_known), _matte(out, trimap, clamp_known)


@torch.no_grad()
def predict(model: MattingNet, image: np.ndarray, trimap: np.ndarray, clamp_known: bool, mirror: bool = True) -> Matte:
    """The network's matte of an sRGB image (H, W, 3) given a trimap (H, W) uint8. With
    ``clamp_known`` the trimap's known regions are taken as given (it came from a reliable source).
    With ``mirror`` it is the mean of the passes over the image and its mirror (``predict_passes``)."""
    if mirror:
        return predict_passes(model, image, trimap, clamp_known)[0]
    return _matte(_network(model, image, trimap), trimap, clamp_known)


def closed_form(image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """Closed-form matting (Levin et al. 2008, the ``pymatting`` package): alpha (H, W)."""
    from pymatting import estimate_alpha_cf

    return np.clip(estimate_alpha_cf(image.astype(np.float64), trimap.astype(np.float64) / 255.0), 0.0, 1.0)
