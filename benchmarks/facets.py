"""How far the subjects' flat triangles stray from the smooth surface their vertex normals
describe, in pixels, at each profile's light-stage and face-set resolutions, before and
after ``synth`` refines the meshes (PN triangles, ``pipeline/synth/subdivide.py``, until
the 99th percentile is under ``synth.max_facet_px``): where it is a fair share of a pixel,
a silhouette shows facets (interior shading does not: it uses interpolated normals).

    .venv/bin/python benchmarks/facets.py [--subjects 6]

For every mesh edge of length e whose end normals differ by an angle t, the arc of
that turn bulges e * t / 8 from the chord (a circular arc's sagitta for small t). The
script prints quantiles of that bulge over all edges of a few random subjects, for the
body and the hair shell apart, in pixels at the camera distance of each kind of render,
as built and as ``synth`` renders them, then per part of the unrefined subject at the
default face-set resolution. Sharp creases (eyelids, the mouth's inside, the hair shell's
rim) count too, so the top quantiles overstate what a smooth silhouette shows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pipeline.camera.eg3d import RADIUS, pixel_size
from pipeline.config import PROFILES, load_params
from pipeline.seeds import rng_for
from pipeline.synth.dataset import LIGHTSTAGE_RADIUS
from pipeline.synth.subdivide import edge_bulges
from pipeline.synth.subject import REGIONS, SCALE, sample_subject

QUANTILES = (0.5, 0.9, 0.99, 0.999)


def mesh_bulges(subjects: list) -> tuple[np.ndarray, np.ndarray, int, int]:
    """World-unit bulges of the bodies' and the shells' edges, and the mean triangle counts."""
    body = np.concatenate([edge_bulges(s.vertices, s.faces, s.normals) for s in subjects])
    shell = np.concatenate([edge_bulges(s.shell_vertices, s.shell_faces, s.shell_normals) for s in subjects
                            if len(s.shell_faces)])
    return (body, shell, int(np.mean([len(s.faces) for s in subjects])),
            int(np.mean([len(s.shell_faces) for s in subjects])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=6)
    args = parser.parse_args()
    seeds = [rng_for(0, "subject", k) for k in range(args.subjects)]
    built = [sample_subject(rng_for(0, "subject", k)) for k in range(args.subjects)]
    body, shell, triangles, shell_triangles = mesh_bulges(built)
    print(f"{args.subjects} subjects as built: {triangles:,} body and {shell_triangles:,} hair-shell triangles each "
          f"(mean), median edge {np.median(np.linalg.norm(built[0].vertices[built[0].faces[:, 0]] - built[0].vertices[built[0].faces[:, 1]], axis=1)) / SCALE * 1000:.1f} mm")
    header = " ".join(f"q{q:g}".ljust(7) for q in QUANTILES)
    print(f"{'render':21} {'pixel':>8} {'mesh':6} {'triangles':>10}  bulge in pixels, built: {header}  refined: {header}")
    for profile in PROFILES:
        synth = load_params(Path("params.yaml"), profile=profile).section("synth")
        for kind, distance, size in (("light stage", LIGHTSTAGE_RADIUS, synth.resolution),
                                     ("face set", RADIUS, synth.face_resolution)):
            pixel = pixel_size(distance, size)
            refined = [sample_subject(rng_for(0, "subject", k), pixel=pixel, max_facet_px=synth.max_facet_px)
                       for k in range(len(seeds))]
            fine_body, fine_shell, fine_triangles, fine_shell_triangles = mesh_bulges(refined)
            for mesh, before, after, count in (("body", body, fine_body, fine_triangles),
                                               ("shell", shell, fine_shell, fine_shell_triangles)):
                print(f"{profile:8} {kind:12} {size:4d} px {pixel / SCALE * 1000:5.2f} mm {mesh:6} {count:>10,}  "
                      + "                        " + " ".join(f"{v:<7.3f}" for v in np.quantile(before / pixel, QUANTILES))
                      + "           " + " ".join(f"{v:<7.3f}" for v in np.quantile(after / pixel, QUANTILES)))
    size = load_params(Path("params.yaml"), profile="default").section("synth").face_resolution
    pixel = pixel_size(RADIUS, size)
    print(f"\nper part as built, face set at {size} px: {header} max")
    parts: dict[str, list[np.ndarray]] = {}
    for subject in built:
        for index, region in enumerate(REGIONS):
            if (subject.region == index).any():
                parts.setdefault(region, []).append(edge_bulges(subject.vertices, subject.faces[subject.region == index],
                                                                subject.normals))
        if len(subject.shell_faces):
            parts.setdefault("hair shell", []).append(edge_bulges(subject.shell_vertices, subject.shell_faces,
                                                                  subject.shell_normals))
    for part, values in parts.items():
        values = np.concatenate(values) / pixel
        print(f"{part:12} " + " ".join(f"{v:<7.3f}" for v in np.quantile(values, QUANTILES)) + f" {values.max():.3f}")


if __name__ == "__main__":
    main()
