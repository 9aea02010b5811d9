"""Relighting a user's photograph end to end: trimap, matting, relighting, compositing.

The photo is an 8-bit sRGB picture of a person. Without a given trimap, a coarse
one is made from a portrait segmentation (pipeline.matting.portrait: the largest
face's head-and-shoulders prior refined by GrabCut, or the border colours where
no face is found); the
matting network refines it into alpha and foreground; the relighting chain
relights the foreground under the new map, seen by the frontal EG3D camera;
the result is exposed and composited over the new background:
C = alpha F + (1 - alpha) B.

Subject and map background share one exposure, as in one photograph
(``frame_exposure``): the face's median luminance is brought to
``exposure_median``, unless the background seen behind it is brighter than the
face, in which case the exposure is lowered by (face / background) ** (1 -
face_weight), as a camera's face-weighted metering would; radiance above
``highlight_knee`` then rolls off towards white instead of clipping
(``roll_off``), so a bright sky keeps its colour and gradation. A background
picture the user gives is display-referred and is used as it is.

A large photo is not fed to the nets whole: they run with its longer side at
``working_size`` (the ``photo`` params), alpha is brought back to full size
edge-aware (a guided filter fitted at the working size, ``guided_upsample``),
and the relighting is applied at full size as a per-pixel gain on the photo's
own colours (relit / photo at the working size, upsampled), so the
relit picture keeps the photo's detail and the memory grows only with the
picture's own arrays.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from pipeline import DataError
from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.config import Params
from pipeline.io.arrays import srgb_curve, srgb_to_linear
from pipeline.io.resize import resize_picture, scaled_shape
from pipeline.light.pairs import Environment, view_background
from pipeline.light.prefilter import light_maps
from pipeline.light.tonemap import LUMINANCE, composite, subject_exposure, unpremultiply
from pipeline.matting.guidance import guided_upsample
from pipeline.matting.inference import predict
from pipeline.matting.portrait import Segmentation, portrait_segmentation
from pipeline.matting.trimap import BACKGROUND, FOREGROUND, coarse_trimap
from pipeline.models.matting import MattingNet
from pipeline.relighting.chain import Relit, RelightingChain


FRONTAL = camera_label(orbit_camera(0.0, 0.0))
UPSAMPLE_RADIUS, UPSAMPLE_EPSILON = 2, 1e-4  # the guided filter that brings alpha to full size (at the working size)
MAX_GAIN = 50.0  # relit / input, per channel: bounds the gain where the input is nearly black


def environment_from(env: np.ndarray, lightmap_height: int) -> Environment:
    """A map (H, 2H, 3) with its diffuse and Phong light maps on a lightmap_height grid."""
    maps = light_maps(env, lightmap_height)
    return Environment(env=env.astype(np.float32), diffuse=maps["diffuse"].astype(np.float32), phong=maps["phong"].astype(np.float32))


def roll_off(linear: np.ndarray, knee: float) -> np.ndarray:
    """Exposed linear values up to ``knee`` unchanged; above it a hyperbolic shoulder,
    knee + (1 - knee) t / (1 + t) with t = (x - knee) / (1 - knee), which meets the line with
    slope 1 and reaches 1 only at infinite radiance: highlights compress instead of clipping."""
    t = np.maximum(linear - knee, 0.0) / (1.0 - knee)
    return np.where(linear > knee, knee + (1.0 - knee) * t / (1.0 + t), linear).astype(np.float32)


def frame_exposure(premultiplied: np.ndarray, alpha: np.ndarray, behind: np.ndarray, target: float,
                   face_weight: float) -> float:
    """One exposure for subject and background: the subject's (its median luminance at ``target``,
    ``subject_exposure``), lowered by (face / background) ** (1 - face_weight) where the background's
    median luminance (over the pixels alpha leaves below 0.5) is the brighter, and never raised."""
    scale = subject_exposure(premultiplied, alpha, target)
    seen = alpha < 0.5
    if not seen.any():
        return scale
    face = target / scale  # the subject's median luminance before exposure
    background = float(np.median(behind[seen] @ LUMINANCE))
    return scale * min(1.0, face / max(background, 1e-12)) ** (1.0 - face_weight)


@dataclass(frozen=True)
class PhotoResult:
    trimap: np.ndarray  # (H, W) uint8, the input trimap
    alpha: np.ndarray  # (H, W)
    relit: Relit  # the chain's layers at the working size
    working_alpha: np.ndarray  # (h, w) alpha at the working size
    relit_full: np.ndarray  # (H, W, 3) relit foreground, linear, premultiplied by ``alpha``
    composite: np.ndarray  # (H, W, 3) sRGB in [0, 1]
    segmentation: Segmentation | None  # how the trimap was made (None: it was given)


class PhotoRelighter:
    def __init__(self, matting: MattingNet, chain: RelightingChain, band_fraction: float = 0.04,
                 exposure_median: float = 0.25, camera: np.ndarray = FRONTAL, working_size: int = 512,
                 face_weight: float = 0.75, highlight_knee: float = 0.5):
        self.matting, self.chain = matting.eval(), chain
        self.band_fraction, self.exposure_median, self.camera = band_fraction, exposure_median, camera
        self.working_size, self.face_weight, self.highlight_knee = working_size, face_weight, highlight_knee

    @classmethod
    def from_params(cls, matting: MattingNet, chain: RelightingChain, params: Params) -> PhotoRelighter:
        """As ``lightstage relight`` builds it: the trimap band from ``trimaps``, the exposure target from
        ``evaluate_relighting`` (the one relit pictures are scored at), the rest from ``photo``."""
        photo = params.section("photo")
        return cls(matting, chain, params.section("trimaps").coarse_band_fraction,
                   params.section("evaluate_relighting").exposure_median, working_size=photo.working_size,
                   face_weight=photo.face_weight, highlight_knee=photo.highlight_knee)

    def coarse_trimap(self, photo: np.ndarray) -> tuple[np.ndarray, Segmentation]:
        segmentation = portrait_segmentation(photo)
        width = max(1, round(self.band_fraction * max(photo.shape[:2])))
        return coarse_trimap(segmentation.mask, width), segmentation

    def __call__(self, photo: np.ndarray, environment: Environment, background: np.ndarray | None = None,
                 trimap: np.ndarray | None = None, backdrop: np.ndarray | None = None) -> PhotoResult:
        """photo (H, W, 3) sRGB in [0, 1]; background (H, W, 3) sRGB in [0, 1], or None for the
        map itself behind the subject; trimap (H, W) uint8 0 / 128 / 255 (its known regions are
        kept), or None to make a coarse one (which the matting network may overrule); backdrop
        (H', 2H', 3), the map at a finer size than ``environment``'s, for the background (the
        camera sees a few degrees of it)."""
        given = trimap is not None  # a given trimap's known regions are taken as they are
        segmentation = None
        if not given:
            trimap, segmentation = self.coarse_trimap(photo)
        if not (trimap != BACKGROUND).any():
            if given:
                raise DataError("no subject: the given trimap is background everywhere; give a trimap that marks the subject")
            raise DataError("no person found: no face was detected, and the photo's border colours set no subject "
                            "apart; give a trimap that marks the subject (--trimap)")
        scale = min(1.0, self.working_size / max(photo.shape[:2]))
        working = scaled_shape(photo.shape, scale)
        small, small_trimap = resize_picture(photo, *working), resize_picture(trimap, *working, nearest=True)
        matte = predict(self.matting, small, small_trimap, clamp_known=given)
        working_alpha = matte.alpha.astype(np.float32)
        if working_alpha.max() < 0.5:
            raise DataError(f"the matte is empty (alpha at most {working_alpha.max():.3f}): nothing to relight; "
                            "give a trimap that marks the subject")
        relit = self.chain.relight((matte.foreground * working_alpha[..., None]).astype(np.float32), working_alpha,
                                   self.camera, environment)
        if scale < 1.0:
            alpha = np.clip(guided_upsample(small, working_alpha, photo, UPSAMPLE_RADIUS, UPSAMPLE_EPSILON), 0.0, 1.0)
            if given:
                alpha = np.where(trimap == FOREGROUND, 1.0, np.where(trimap == BACKGROUND, 0.0, alpha))
            # the relighting as a gain on the photo's linear colours, fitted at the working size and
            # applied to the full-size photo (inside the subject the photo is its foreground)
            source = srgb_to_linear(small) * working_alpha[..., None]
            gain = np.clip(relit.relit / np.maximum(source, 1e-3), 0.0, MAX_GAIN) * (source > 1e-3)
            full_gain = resize_picture(gain.astype(np.float32), *photo.shape[:2])
            relit_full = srgb_to_linear(photo) * full_gain * alpha[..., None]
        else:
            alpha, relit_full = working_alpha, relit.relit
        alpha = alpha.astype(np.float32)
        composited = self.picture(relit_full, alpha, environment, background, backdrop)
        return PhotoResult(trimap=trimap, alpha=alpha, relit=relit, working_alpha=working_alpha, relit_full=relit_full,
                           composite=composited, segmentation=segmentation)

    def picture(self, relit_full: np.ndarray, alpha: np.ndarray, environment: Environment,
                background: np.ndarray | None, backdrop: np.ndarray | None) -> np.ndarray:
        """The composite in sRGB: the subject over the map as the camera sees it, both under one
        exposure with highlights rolled off, or over a given (display-referred) background picture."""
        if background is None:
            seen = environment if backdrop is None else dataclasses.replace(environment, env=backdrop)
            behind = view_background(seen, self.camera, *alpha.shape)
            scale = frame_exposure(relit_full, alpha, behind, self.exposure_median, self.face_weight)
            behind = roll_off(behind * scale, self.highlight_knee)
        else:
            scale = subject_exposure(relit_full, alpha, self.exposure_median)
            behind = srgb_to_linear(background)
        subject = roll_off(unpremultiply(relit_full * scale, alpha), self.highlight_knee) * alpha[..., None]
        return srgb_curve(composite(subject, alpha, behind))

