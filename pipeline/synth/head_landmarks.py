"""The 68 iBUG face landmarks (dlib's convention) as points on the anny head's surface.

Each landmark is a triangle of the head mesh and barycentric weights of its
corners (``data/anny_head_ibug68.json``), so it moves with every phenotype and
expression. The points were chosen once, by ``derive``: dlib's 68-point shape
predictor run on a 512 px orthographic frontal render of the neutral head
(every phenotype parameter 0.5, no facial action, lit from the front), the
points of each mirror pair averaged about the midline (midline points put on
it), and a ray cast through each to the surface. The jawline points (0-16)
are where dlib puts them in a frontal view: fixed surface points near the
cheek's outline, not a view-dependent silhouette.

``derive`` needs ``dlib-bin`` and ``face-recognition-models`` (not
dependencies of the pipeline: the result is committed).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

from pipeline.synth.head import HeadMesh, HeadModel, pixel_to_frame, preview

DATA = Path(__file__).parent / "data" / "anny_head_ibug68.json"
COUNT = 68
# iBUG 68 mirror pairs (the subject's right, left: the lower lip runs from left to right); the others lie on the midline
MIRROR_PAIRS = tuple((i, 16 - i) for i in range(8)) + (
    (17, 26), (18, 25), (19, 24), (20, 23), (21, 22), (31, 35), (32, 34), (36, 45), (37, 44), (38, 43), (39, 42),
    (40, 47), (41, 46), (48, 54), (49, 53), (50, 52), (59, 55), (58, 56), (60, 64), (61, 63), (67, 65))
MIDLINE = (8, 27, 28, 29, 30, 33, 51, 57, 62, 66)
DERIVE_SIZE, DERIVE_EXTENT = 512, 0.34  # the render ``derive`` used (``preview``'s orthographic frame)


@cache
def surface_landmarks() -> tuple[np.ndarray, np.ndarray]:
    """(triangle index (68,), barycentric weights (68, 3)) of the 68 landmarks on the head mesh."""
    table = json.loads(DATA.read_text())
    faces, weights = np.array(table["faces"], dtype=np.int64), np.array(table["weights"], dtype=np.float64)
    if faces.shape != (COUNT,) or weights.shape != (COUNT, 3):
        raise ValueError(f"{DATA}: expected {COUNT} faces and (68, 3) weights, got {faces.shape} and {weights.shape}")
    return faces, weights


def landmarks(head: HeadMesh) -> np.ndarray:
    """The 68 iBUG landmarks (68, 3) of ``head``, in its head-local coordinates."""
    faces, weights = surface_landmarks()
    corners = head.vertices[head.faces[faces]]  # (68, 3 corners, 3)
    return np.einsum("nk,nkd->nd", weights, corners).astype(np.float32)


def derive(path: Path = DATA, models: Path | None = None) -> None:
    """Choose the 68 surface points with dlib on a frontal render of the neutral head (see the module text)."""
    import dlib  # dlib-bin

    if models is None:
        import importlib.util

        spec = importlib.util.find_spec("face_recognition_models")
        models = Path(spec.submodule_search_locations[0]) / "models"
    model = HeadModel()
    head = model.mesh({name: 0.5 for name in model.phenotype_labels}, {})
    grey = preview(head, size=DERIVE_SIZE, light=(0.2, 0.3, 1.0), extent=DERIVE_EXTENT) ** (1 / 2.2)
    picture = np.where(grey[..., None] > 0, grey[..., None] * np.array([0.95, 0.75, 0.62]), 0.55)
    picture = np.round(picture * 255).astype(np.uint8)
    found = dlib.get_frontal_face_detector()(picture, 1)
    if len(found) != 1:
        raise RuntimeError(f"dlib found {len(found)} faces in the frontal render, expected 1")
    shape = dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat"))(picture, found[0])
    pixels = np.array([[p.x + 0.5, p.y + 0.5] for p in shape.parts()], dtype=np.float64)  # pixel centres
    x, y = pixel_to_frame(pixels, DERIVE_SIZE, DERIVE_EXTENT).T
    for right, left in MIRROR_PAIRS:  # the neutral head is symmetric: so are its landmarks
        half, height = (x[left] - x[right]) / 2, (y[left] + y[right]) / 2
        x[right], x[left], y[right], y[left] = -half, half, height, height
    x[list(MIDLINE)] = 0.0
    origins = np.column_stack([x, y, np.ones(COUNT)])
    hits = head.caster().closest(origins, np.tile([0.0, 0.0, -1.0], (COUNT, 1)))
    if not hits.hit.all():
        raise RuntimeError(f"landmarks {np.flatnonzero(~hits.hit).tolist()} miss the head")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = {"convention": "iBUG 68 (dlib), the subject's right first in each pair",
             "derived": "dlib shape_predictor_68_face_landmarks on a 512 px frontal render of the neutral anny head, "
                        "mirror pairs averaged, rays cast to the surface (pipeline/synth/head_landmarks.py)",
             "faces": hits.face.tolist(), "weights": np.round(hits.weights.astype(np.float64), 6).tolist()}
    path.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    derive()
