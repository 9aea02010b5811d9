"""Pose errors against the face set's true cameras (read by evaluation code only).

A fitted camera is expressed for its aligned crop, the true one for the whole photo: the
crop's similarity moves the camera along its line of sight (scale) and turns it about its
optical axis (rotation), but leaves the direction from the head to the camera. So yaw and
pitch are compared as that direction's angles (``position_angles``: the orbit angles of
``pipeline.camera.eg3d.orbit_camera``), and roll as the fitted camera's roll less the one the
crop's rotation puts in (an upright true camera seen through a crop turned by phi degrees
reads as roll -phi). Errors are grouped by the true yaw's magnitude (``YAW_BINS``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.camera.eg3d import split_label
from pipeline.poses.fit import head_angles

YAW_BINS = ((0.0, 15.0), (15.0, 30.0), (30.0, 45.0), (45.0, 70.0))
ERRORS = ("yaw", "pitch", "roll")


def position_angles(label: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) in degrees of the camera's position about the origin (the head)."""
    x, y, z = split_label(label)[0][:3, 3]
    return float(np.degrees(np.arctan2(x, z))), float(np.degrees(np.arctan2(y, np.hypot(x, z))))


def pose_errors(label: np.ndarray, crop_rotation_deg: float, true_yaw_deg: float, true_pitch_deg: float) -> np.ndarray:
    """Signed (yaw, pitch, roll) errors in degrees of a crop's camera against an upright true orbit camera."""
    yaw, pitch = position_angles(label)
    roll = head_angles(label)[2] + crop_rotation_deg
    return np.array([yaw - true_yaw_deg, pitch - true_pitch_deg, (roll + 180.0) % 360.0 - 180.0])


def yaw_bin(true_yaw_deg: float) -> str | None:
    magnitude = abs(true_yaw_deg)
    for low, high in YAW_BINS:
        if low <= magnitude < high or (high == YAW_BINS[-1][1] and magnitude == high):
            return f"{low:.0f}-{high:.0f}"
    return None


def summarise(table: pd.DataFrame) -> dict:
    """table: one row per (method, photo) with ``method``, ``true_yaw``, ``kept`` and, where kept,
    ``yaw``, ``pitch``, ``roll`` errors. -> {method: {bin or "all": {count, kept_share, <err>_mean,
    <err>_median, <err>_p95}}}, absolute errors in degrees."""
    out: dict = {}
    table = table.assign(bin=table["true_yaw"].map(yaw_bin))
    for method, rows in table.groupby("method", sort=False):
        groups = {"all": rows, **{b: g for b, g in rows.groupby("bin", sort=True)}}
        out[method] = {}
        for name, group in groups.items():
            kept = group[group["kept"]]
            entry = {"count": int(len(group)), "kept_share": float(group["kept"].mean())}
            for error in ERRORS:
                values = np.abs(kept[error].to_numpy(np.float64))
                if len(values):
                    entry |= {f"{error}_mean": float(values.mean()), f"{error}_median": float(np.median(values)),
                              f"{error}_p95": float(np.percentile(values, 95))}
            out[method][name] = entry
    return out
