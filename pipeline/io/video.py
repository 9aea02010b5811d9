"""Videos for people (turntables, relit sequences), written with OpenCV."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline import DataError
from pipeline.io.atomic import atomic_path

VIDEO_CODECS = {".mp4": "mp4v", ".avi": "MJPG"}


def write_video(path: Path, frames: np.ndarray, fps: float = 24.0, scale: int = 1) -> None:
    """uint8 frames (F, H, W, 3) RGB as a video (``.mp4`` or ``.avi``) with OpenCV, written whole
    to a temporary file, then renamed; pixels repeated ``scale`` times (small renders)."""
    import cv2

    path = Path(path)
    if path.suffix.lower() not in VIDEO_CODECS:
        raise DataError(f"{path}: videos are written as {' or '.join(VIDEO_CODECS)}")
    frames = np.asarray(frames).repeat(scale, axis=1).repeat(scale, axis=2)
    height, width = frames.shape[1:3]
    fourcc = cv2.VideoWriter_fourcc(*VIDEO_CODECS[path.suffix.lower()])
    with atomic_path(path) as temporary:
        writer = cv2.VideoWriter(str(temporary), fourcc, fps, (width, height))
        if not writer.isOpened():
            raise DataError(f"{path}: OpenCV cannot write {path.suffix} here (codec {VIDEO_CODECS[path.suffix.lower()]})")
        for frame in frames:
            writer.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
        writer.release()
