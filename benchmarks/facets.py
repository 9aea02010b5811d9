"""How far the subjects' flat triangles stray from the smooth surface their vertex normals
describe, in pixels, at each profile's light-stage and face-set resolutions: where it is
a fair share of a pixel, a silhouette shows facets (interior shading does not: it uses
interpolated normals).

    .venv/bin/python benchmarks/facets.py [--subjects 6]

For every mesh edge of length e whose end normals differ by an angle t, the arc of
that turn bulges e * t / 8 from the chord (a circular arc's sagitta for small t). The
script prints the quantiles of that bulge over all edges of a few random subjects, in
pixels at the camera distance of each kind of render, then per part of the subject
(mesh region, and the hair shell) at the default face-set resolution. Sharp creases
(eyelids, the mouth's inside, the hair shell's rim) count too, so the top quantiles
overstate what a smooth silhouette shows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pipeline.camera.eg3d import FOCAL, RADIUS
from pipeline.config import PROFILES, load_params
from pipeline.seeds import rng_for
from pipeline.synth.dataset import LIGHTSTAGE_RADIUS
from pipeline.synth.subject import REGIONS, SCALE, sample_subject

QUANTILES = (0.5, 0.9, 0.99, 0.999)


def edge_bulges(vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """World-unit bulge of the smooth arc over every unique edge."""
    edges = np.unique(np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1), axis=0)
    length = np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1)
    turn = np.arccos(np.clip(np.sum(normals[edges[:, 0]] * normals[edges[:, 1]], axis=1), -1.0, 1.0))
    return length * turn / 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=6)
    args = parser.parse_args()
    bulges, lengths, parts = [], [], {}
    for k in range(args.subjects):
        subject = sample_subject(rng_for(0, "subject", k))
        bulges.append(edge_bulges(subject.vertices, subject.faces, subject.normals))
        lengths.append(np.median(np.linalg.norm(subject.vertices[subject.faces[:, 0]] - subject.vertices[subject.faces[:, 1]],
                                                axis=1)))
        for index, region in enumerate(REGIONS):
            if (subject.region == index).any():
                parts.setdefault(region, []).append(edge_bulges(subject.vertices, subject.faces[subject.region == index],
                                                                subject.normals))
        if len(subject.shell_faces):
            parts.setdefault("hair shell", []).append(edge_bulges(subject.shell_vertices, subject.shell_faces,
                                                                  subject.shell_normals))
    bulge = np.concatenate(bulges)
    print(f"{args.subjects} subjects, {len(subject.faces):,} triangles each, median edge {np.median(lengths) / SCALE * 1000:.1f} mm")
    header = " ".join(f"q{q:g}".ljust(8) for q in QUANTILES)
    print(f"{'render':34} {'pixel':>8}  bulge in pixels: {header}")
    for profile in PROFILES:
        synth = load_params(Path("params.yaml"), profile=profile).section("synth")
        for kind, distance, size in (("light stage", LIGHTSTAGE_RADIUS, synth.resolution),
                                     ("face set", RADIUS, synth.face_resolution)):
            pixel = distance / (FOCAL * size)  # world units per pixel at the subject
            values = np.quantile(bulge / pixel, QUANTILES)
            print(f"{profile:8} {kind:12} {size:4d} px      {pixel / SCALE * 1000:5.2f} mm  "
                  + " ".join(f"{v:<8.3f}" for v in values))
    size = load_params(Path("params.yaml"), profile="default").section("synth").face_resolution
    pixel = RADIUS / (FOCAL * size)
    print(f"\nper part, face set at {size} px: {header} max")
    for part, values in parts.items():
        values = np.concatenate(values) / pixel
        print(f"{part:12} " + " ".join(f"{v:<8.3f}" for v in np.quantile(values, QUANTILES)) + f" {values.max():.3f}")


if __name__ == "__main__":
    main()
