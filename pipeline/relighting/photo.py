"""Relighting a user's photograph end to end: trimap, matting, relighting, compositing.

The photo is an 8-bit sRGB picture of a person. Without a given trimap, a coarse
one is made from a border-colour segmentation (pipeline.matting.trimap); the
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
from pipeline.matting.trimap import BACKGROUND, border_segmentation, coarse_trimap
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


class PhotoRelighter:
    def __init__(self, matting: MattingNet, chain: RelightingChain, band_fraction: float = 0.04,
                 exposure_median: float = 0.25, camera: np.ndarray = FRONTAL):
        self.matting, self.chain = matting.eval(), chain
        self.band_fraction, self.exposure_median, self.camera = band_fraction, exposure_median, camera

    def coarse_trimap(self, photo: np.ndarray) -> np.ndarray:
        width = max(1, round(self.band_fraction * max(photo.shape[:2])))
        return coarse_trimap(border_segmentation(photo), width)

    def __call__(self, photo: np.ndarray, environment: Environment, background: np.ndarray | None = None,
                 trimap: np.ndarray | None = None) -> PhotoResult:
        """photo (H, W, 3) sRGB in [0, 1]; background (H, W, 3) sRGB in [0, 1], or None for the
        map itself behind the subject; trimap (H, W) uint8 0 / 128 / 255 (its known regions are
        kept), or None to make a coarse one (which the matting network may overrule)."""
        given = trimap is not None  # a given trimap's known regions are taken as they are
        trimap = trimap if given else self.coarse_trimap(photo)
        if not (trimap != BACKGROUND).any():
            source = "the given trimap" if given else "the automatic trimap (from the photo's border colours)"
            raise DataError(f"no subject: {source} is background everywhere; give a trimap that marks the subject")
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
        return PhotoResult(trimap=trimap, alpha=alpha, relit=relit, composite=composite)
