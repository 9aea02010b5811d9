"""The 3D landmark template the poses are fitted with, and the world frame it fixes.

The template is the mean 3D position of the 68 iBUG landmarks over the synthetic light
stage's training subjects (``landmarks_3d`` of ``data/raw/lightstage``), in the world frame
every synthetic subject is placed in (``pipeline.synth.subject.sample_subject``):

- y up, x to the subject's left, z out of the face (the frontal EG3D camera sits on +z);
- origin at c = e + 0.1 (m - e), with e the midpoint of the eye centres and m the mouth's
  midpoint: the centre of FFHQ's aligned square (``pipeline.poses.align``);
- scale: the head model's metres times 2.6, so that the eye centres lie about 0.155 apart
  and the aligned square spans about 0.647 units; an EG3D camera (focal 4.2647 image widths)
  at radius 2.7 sees 2.7 / 4.2647 = 0.633 units across the image, so an aligned crop's
  fitted camera lands near EG3D's radius (the poses stage reports the radii it finds).

EG3D's own FFHQ labels imply this frame (cameras on a sphere of radius 2.7 about the
head, the face filling the aligned crop); its samplers aim at (0, 0, 0.2), a point inside
the head behind the face's centre, where ours aim at the origin.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline import DataError
from pipeline.io.datasets import read_lightstage

COUNT = 68


def template_from_lightstage(directory: Path) -> tuple[np.ndarray, int]:
    """(template (68, 3), subjects averaged): the mean landmarks of the training subjects."""
    views, _ = read_lightstage(directory)
    train = views[views["split"] == "train"].drop_duplicates("subject")
    if train.empty:
        raise DataError(f"{directory}: no training subjects to build the landmark template from")
    points = np.stack([np.asarray(v, np.float64).reshape(COUNT, 3) for v in train["landmarks_3d"]])
    if not np.isfinite(points).all():
        raise DataError(f"{directory}: landmarks_3d holds NaN or infinite values")
    return points.mean(axis=0), len(train)
