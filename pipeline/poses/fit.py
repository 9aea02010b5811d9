"""A head's camera from its 68 face landmarks: a rigid fit of a 3D landmark template by PnP.

The world frame is EG3D's as the synthetic face set uses it (``pipeline/camera/eg3d.py``):
y up, the subject facing +z, the head's landmark template about the origin at the scale of the
synthetic heads (``pipeline.poses.template`` defines that frame), and cameras 25 floats in
OpenCV axes with EG3D's normalised intrinsics. A frontal camera at radius 2.7 looking at the
origin is EG3D's canonical pose. Because the template is fixed, the fit gives the camera that
sees the template as the photo shows the face: the head's rotation becomes the camera's orbit
(``head_angles``), its distance the camera's radius.

Pixel coordinates are continuous (x right, y down; pixel ``i`` covers ``[i, i + 1)``), as
``pipeline.synth.landmarks.project`` writes them and OpenCV reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.camera.eg3d import INTRINSICS, camera_label, split_label
from pipeline.synth.head_landmarks import COUNT, MIRROR_PAIRS

MIRROR = np.diag([-1.0, 1.0, 1.0, 1.0])  # x -> -x: the world's and the camera's


@dataclass(frozen=True)
class PoseFit:
    label: np.ndarray | None  # the EG3D camera (25,); None when the fit is rejected
    error_px: float  # RMS reprojection error over the points the fit kept (nan when none)
    points: int  # landmarks the fit kept (RANSAC inliers)
    reason: str = ""  # why the fit was rejected; empty when kept

    @property
    def kept(self) -> bool:
        return self.label is not None


def pixel_intrinsics(width: int, height: int | None = None) -> np.ndarray:
    """EG3D's normalised intrinsics (3, 3) in pixels of a ``width`` x ``height`` image."""
    return np.diag([width, height or width, 1.0]) @ INTRINSICS


def project_label(label: np.ndarray, points: np.ndarray, width: int, height: int | None = None) -> np.ndarray:
    """Pixel coordinates (N, 2) of world points (N, 3) seen by an EG3D camera."""
    cam2world, _ = split_label(label)
    local = (np.asarray(points, np.float64) - cam2world[:3, 3]) @ cam2world[:3, :3]
    uv = local @ pixel_intrinsics(width, height).T
    return uv[:, :2] / uv[:, 2:3]


def fit_pose(template: np.ndarray, xy: np.ndarray, visible: np.ndarray, width: int, height: int | None = None,
             max_error_px: float = 3.0, min_points: int = 12) -> PoseFit:
    """The camera that projects ``template`` (68, 3) onto the landmarks ``xy`` (68, 2) seen at
    ``visible`` (68,): RANSAC over EPnP for robustness to outliers, then Levenberg-Marquardt on
    the inliers. Rejected, with the reason, when too few points are visible or kept or the
    reprojection error exceeds ``max_error_px``."""
    template, xy = np.asarray(template, np.float64), np.asarray(xy, np.float64)
    if template.shape != (COUNT, 3) or xy.shape != (COUNT, 2):
        raise ValueError(f"expected a (68, 3) template and (68, 2) landmarks, got {template.shape} and {xy.shape}")
    use = np.asarray(visible, bool) & np.all(np.isfinite(xy), axis=1)
    if use.sum() < min_points:
        return PoseFit(None, float("nan"), int(use.sum()), f"{use.sum()} visible landmarks, fewer than {min_points}")
    K = pixel_intrinsics(width, height)
    cv2.setRNGSeed(0)  # RANSAC's draws: the same fit on every run
    found, rvec, tvec, inliers = cv2.solvePnPRansac(template[use], xy[use], K, None, iterationsCount=200,
                                                    reprojectionError=max(2.0 * max_error_px, 1.0),
                                                    flags=cv2.SOLVEPNP_EPNP)
    if not found or inliers is None or len(inliers) < min_points:
        return PoseFit(None, float("nan"), 0 if inliers is None else len(inliers), "no consistent pose (PnP RANSAC failed)")
    kept = np.flatnonzero(use)[inliers[:, 0]]
    rvec, tvec = cv2.solvePnPRefineLM(template[kept], xy[kept], K, None, rvec, tvec)
    rotation, _ = cv2.Rodrigues(rvec)
    world2cam = np.eye(4)
    world2cam[:3, :3], world2cam[:3, 3] = rotation, tvec[:, 0]
    if np.any(template[kept] @ rotation[2] + tvec[2, 0] <= 0):
        return PoseFit(None, float("nan"), len(kept), "the fitted head lies behind the camera")
    label = camera_label(np.linalg.inv(world2cam))
    error = float(np.sqrt(np.mean(np.sum((project_label(label, template[kept], width, height) - xy[kept]) ** 2, axis=1))))
    if error > max_error_px:
        return PoseFit(None, error, len(kept), f"reprojection error {error:.2f} px above {max_error_px} px")
    return PoseFit(label, error, len(kept))


def head_angles(label: np.ndarray) -> np.ndarray:
    """(yaw, pitch, roll) in degrees of the camera's view of the head: yaw about the world's up
    axis (positive: the camera to the subject's left, +x), pitch up, roll about the view axis.
    From the rotation alone (not the position), so a camera that does not aim at the origin
    still reads as the head it sees. The face set's orbit cameras have exactly their yaw and pitch and no roll."""
    cam2world, _ = split_label(label)
    right, down, forward = cam2world[:3, 0], cam2world[:3, 1], cam2world[:3, 2]
    yaw = np.arctan2(-forward[0], -forward[2])
    pitch = np.arcsin(np.clip(-forward[1], -1.0, 1.0))
    roll = np.arctan2(-right[1], -down[1])
    return np.degrees([yaw, pitch, roll])


def mirror_label(label: np.ndarray) -> np.ndarray:
    """The camera of the horizontally mirrored image: the world and the camera mirrored in x
    (cam2world -> M cam2world M, M = diag(-1, 1, 1, 1)); yaw and roll change sign, pitch stays.
    The intrinsics stay (EG3D's principal point is the image centre)."""
    cam2world, intrinsics = split_label(label)
    return camera_label(MIRROR @ cam2world @ MIRROR, intrinsics)


MIRROR_ORDER = np.arange(COUNT)
for _right, _left in MIRROR_PAIRS:
    MIRROR_ORDER[_right], MIRROR_ORDER[_left] = _left, _right


def mirror_landmarks(xy: np.ndarray, visible: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The 68 landmarks of the mirrored image: x -> width - x, and each mirror pair swapped so
    that point ``i`` is still the iBUG point ``i`` (the subject's right eye stays point 36)."""
    mirrored = np.asarray(xy, np.float64).copy()
    mirrored[:, 0] = width - mirrored[:, 0]
    return mirrored[MIRROR_ORDER], np.asarray(visible)[MIRROR_ORDER]
