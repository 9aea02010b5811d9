"""One photo's pose: its landmarks, the aligned crop they give, and the camera fitted in that crop.

The fit runs on the landmarks carried into the crop, with EG3D's intrinsics at the crop's
size, so the camera is expressed for the crop as EG3D's ``dataset.json`` wants it (the crop's
rotation becomes the camera's roll, its scale the camera's distance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.poses.align import apply, crop_transform
from pipeline.poses.detect import Detection
from pipeline.poses.fit import PoseFit, fit_pose


@dataclass(frozen=True)
class Estimate:
    affine: np.ndarray | None  # (2, 3) source -> crop; None without a face
    xy: np.ndarray | None  # (68, 2) the landmarks in the crop
    visible: np.ndarray | None  # (68,)
    fit: PoseFit


def estimate(detection: Detection, template: np.ndarray, resolution: int, max_error_px: float,
             min_points: int) -> Estimate:
    if detection.xy is None:
        return Estimate(None, None, None, PoseFit(None, float("nan"), 0, "no face found"))
    affine = crop_transform(detection.xy, resolution)
    xy = apply(affine, detection.xy)
    fit = fit_pose(template, xy, detection.visible, resolution, max_error_px=max_error_px, min_points=min_points)
    return Estimate(affine, xy, detection.visible, fit)
