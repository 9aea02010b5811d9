"""Relighting a user's photograph end to end: trimap, matting, relighting, compositing.

The photo is an 8-bit sRGB picture of a person. Without a given trimap, a coarse
one is made from a portrait segmentation (pipeline.matting.portrait: the largest
face's head-and-shoulders prior refined by GrabCut, or the border colours where
no face is found); the
matting network refines it into alpha and foreground; the relighting chain
relights the foreground under the new map, seen by the frontal EG3D camera;
the result is exposed for the face and composited over the new background:
C = alpha F + (1 - alpha) B.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline import DataError
from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.io.arrays import srgb_to_linear
from pipeline.light.pairs import Environment, view_background
from pipeline.light.prefilter import light_maps
from pipeline.light.tonemap import subject_exposure
from pipeline.matting.inference import predict
from pipeline.matting.portrait import Segmentation, portrait_segmentation
from pipeline.matting.trimap import BACKGROUND, coarse_trimap
from pipeline.models.matting import MattingNet
from pipeline.relighting.chain import Relit, RelightingChain
from pipeline.relighting.evaluation import picture

FRONTAL = camera_label(orbit_camera(0.0, 0.0))


def environment_from(env: np.ndarray, lightmap_height: int) -> Environment:
    """A map (H, 2H, 3) with its diffuse and Phong light maps on a lightmap_height grid."""
    maps = light_maps(env, lightmap_height)
    return Environment(env=env.astype(np.float32), diffuse=maps["diffuse"].astype(np.float32), phong=maps["phong"].astype(np.float32))


@dataclass(frozen=True)
class PhotoResult:
    trimap: np.ndarray  # (H, W) uint8, the input trimap
    alpha: np.ndarray  # (H, W)
    relit: Relit
    composite: np.ndarray  # (H, W, 3) sRGB in [0, 1]
    segmentation: Segmentation | None  # how the trimap was made (None: it was given)


class PhotoRelighter:
    def __init__(self, matting: MattingNet, chain: RelightingChain, band_fraction: float = 0.04,
                 exposure_median: float = 0.25, camera: np.ndarray = FRONTAL):
        self.matting, self.chain = matting.eval(), chain
        self.band_fraction, self.exposure_median, self.camera = band_fraction, exposure_median, camera

    def coarse_trimap(self, photo: np.ndarray) -> tuple[np.ndarray, Segmentation]:
        segmentation = portrait_segmentation(photo)
        width = max(1, round(self.band_fraction * max(photo.shape[:2])))
        return coarse_trimap(segmentation.mask, width), segmentation

    def __call__(self, photo: np.ndarray, environment: Environment, background: np.ndarray | None = None,
                 trimap: np.ndarray | None = None) -> PhotoResult:
        """photo (H, W, 3) sRGB in [0, 1]; background (H, W, 3) sRGB in [0, 1], or None for the
        map itself behind the subject; trimap (H, W) uint8 0 / 128 / 255 (its known regions are
        kept), or None to make a coarse one (which the matting network may overrule)."""
        given = trimap is not None  # a given trimap's known regions are taken as they are
        segmentation = None
        if not given:
            trimap, segmentation = self.coarse_trimap(photo)
        if not (trimap != BACKGROUND).any():
            if given:
                raise DataError("no subject: the given trimap is background everywhere; give a trimap that marks the subject")
            raise DataError("no person found: no face was detected, and the photo's border colours set no subject "
                            "apart; give a trimap that marks the subject (--trimap)")
        matte = predict(self.matting, photo.astype(np.float32), trimap, clamp_known=given)
        alpha = matte.alpha.astype(np.float32)
        if alpha.max() < 0.5:
            raise DataError(f"the matte is empty (alpha at most {alpha.max():.3f}): nothing to relight; "
                            "give a trimap that marks the subject")
        relit = self.chain.relight((matte.foreground * alpha[..., None]).astype(np.float32), alpha, self.camera, environment)
        if background is None:
            behind = view_background(environment, self.camera, *alpha.shape)
            exposed = behind * subject_exposure(relit.relit, alpha, self.exposure_median)
        else:
            exposed = srgb_to_linear(background)
        composite = picture(relit.relit, alpha, self.exposure_median, exposed)
        return PhotoResult(trimap=trimap, alpha=alpha, relit=relit, composite=composite, segmentation=segmentation)
