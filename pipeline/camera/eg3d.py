"""EG3D's camera convention.

A camera is 25 floats: the 4x4 camera-to-world matrix, row-major, in OpenCV axes
(x right, y down, z forward), then the 3x3 intrinsics normalised by the image
size. World is y-up; the frontal camera sits on +z at radius 2.7.
"""

from __future__ import annotations

import numpy as np

FOCAL = 4.2647  # focal length as a fraction of image width (about 13.4 degrees FOV)
RADIUS = 2.7
CAMERA_FLOATS = 25  # 16 of the pose, 9 of the intrinsics
INTRINSICS = np.array([[FOCAL, 0.0, 0.5], [0.0, FOCAL, 0.5], [0.0, 0.0, 1.0]])


def look_at(position: np.ndarray, target: np.ndarray = np.zeros(3), up: np.ndarray = np.array([0.0, 1.0, 0.0])) -> np.ndarray:
    """Camera-to-world (4, 4) in OpenCV axes for a camera at ``position`` looking at ``target``."""
    forward = target - position
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, up)
    right = right / np.linalg.norm(right)
    down = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, position
    return pose


def pixel_size(distance: float, resolution: int) -> float:
    """World units one pixel spans at ``distance`` from a camera with EG3D's intrinsics."""
    return distance / (FOCAL * resolution)


def orbit_camera(yaw: float, pitch: float, radius: float = RADIUS) -> np.ndarray:
    """Camera-to-world (4, 4) on a sphere about the origin; yaw about +y, pitch up, radians."""
    position = radius * np.array([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)])
    return look_at(position)


def camera_label(cam2world: np.ndarray, intrinsics: np.ndarray = INTRINSICS) -> np.ndarray:
    """The 25-float EG3D label (25,) of a camera."""
    return np.concatenate([np.asarray(cam2world, dtype=np.float64).reshape(16), intrinsics.reshape(9)])


def split_label(label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cam2world (4, 4), intrinsics (3, 3)) of a 25-float label."""
    label = np.asarray(label, dtype=np.float64)
    return label[:16].reshape(4, 4), label[16:25].reshape(3, 3)


def pixel_rays(label: np.ndarray, height: int, width: int, supersample: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """World-space ray origins (3,) and unit directions (H*s, W*s, 3) through sub-pixel centres."""
    cam2world, intrinsics = split_label(label)
    s = supersample
    u = (np.arange(width * s) + 0.5) / (width * s)
    v = (np.arange(height * s) + 0.5) / (height * s)
    uu, vv = np.meshgrid(u, v)
    x = (uu - intrinsics[0, 2]) / intrinsics[0, 0]
    y = (vv - intrinsics[1, 2]) / intrinsics[1, 1]
    local = np.stack([x, y, np.ones_like(x)], axis=-1)
    directions = local @ cam2world[:3, :3].T
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    return cam2world[:3, 3], directions


def normals_to_world(label: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Camera-space (OpenCV axes) normals (..., 3) -> world space."""
    cam2world, _ = split_label(label)
    return normals @ cam2world[:3, :3].T

