"""2D landmarks and their visibility from a camera."""

from __future__ import annotations

import numpy as np

from pipeline.camera.eg3d import split_label
from pipeline.synth.raycast import intersect
from pipeline.synth.subject import Subject


def project(camera: np.ndarray, points: np.ndarray, resolution: int) -> np.ndarray:
    """Pixel coordinates (N, 2) (x right, y down, pixel centres at +0.5) of world points (N, 3)."""
    cam2world, intrinsics = split_label(camera)
    local = (points - cam2world[:3, 3]) @ cam2world[:3, :3]
    uv = (local @ intrinsics.T)[:, :2] / local[:, 2:3]
    return uv * resolution


def landmarks_2d(subject: Subject, camera: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """(pixel coordinates (N, 2), visible (N,)) of the subject's landmarks.

    A landmark is visible when it is inside the frame and the camera ray towards
    it hits the subject at the landmark itself, not in front of it.
    """
    xy = project(camera, subject.landmarks, resolution)
    origin = split_label(camera)[0][:3, 3]
    offsets = subject.landmarks - origin
    distance = np.linalg.norm(offsets, axis=1)
    hits = intersect(subject, origin, offsets / distance[:, None])
    unoccluded = np.abs(hits.depth - distance) < 2e-3
    inside = np.all((xy >= 0) & (xy <= resolution), axis=1)
    return xy, unoccluded & inside
