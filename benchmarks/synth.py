"""Time each component of the synthetic light stage on the default profile's sizes.

    .venv/bin/python benchmarks/synth.py [--profile default]

Prints the median seconds per call of each component and its share of one
subject-view (the unit of work of the light stage), all measured in this run,
plus the linearity error of OLAT relighting at L = 16, 64, 256, and what refining the
meshes for smooth silhouettes (``synth.max_facet_px``) costs: a face image and a
subject-view with and without it.

    .venv/bin/python benchmarks/synth.py --baseline 6cfdd4d [--faces 24]

times face images and light-stage views of the default profile at another git revision (checked out
in a temporary worktree, run with this environment) against this tree, alternating the two in
one run, and checks that both render the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from timing import median_seconds

from pipeline.camera.eg3d import RADIUS, camera_label, orbit_camera, pixel_size
from pipeline.config import PROFILES, load_params
from pipeline.io.arrays import save_array
from pipeline.light.sphere import uniform_light_set
from pipeline.synth.dataset import LIGHTSTAGE_RADIUS
from pipeline.synth.faces import FaceSpec, render_face
from pipeline.synth.hdri import procedural_sky
from pipeline.synth.linearity import direct_render, olat_render, relative_error, smooth_environment
from pipeline.synth.render import lit_image, render_view, trace, weighted_image
from pipeline.seeds import rng_for
from pipeline.synth.shading import shade
from pipeline.synth.subject import sample_subject


# Run in a fresh interpreter with a tree's root first on the path: seconds per face image and per
# light-stage view of that tree's code, and a digest of what it rendered.
_ROUND = """
import hashlib, json, sys, time
import numpy as np
from pathlib import Path
from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.config import load_params
from pipeline.light.sphere import uniform_light_set
from pipeline.synth.dataset import SynthSpec, LIGHTSTAGE_RADIUS, _subject_rows
from pipeline.synth.faces import render_face
from pipeline.synth.hdri import procedural_sky
from pipeline.seeds import rng_for
import tempfile
faces, start = int(sys.argv[1]), int(sys.argv[2])
raw = load_params(Path("params.yaml"), profile="default").section("synth")
spec = SynthSpec(seed=0, **raw.model_dump())
maps = {f"h{i}": procedural_sky(rng_for(0, "hdri", i), raw.hdri_height) for i in range(3)}
digest = hashlib.sha256()
render_face(spec.face_spec, start, maps)  # imports, the head model, the kernels
clock = time.perf_counter()
for index in range(start, start + faces):
    image, labels, _, _ = render_face(spec.face_spec, index, maps)
    digest.update(image.tobytes()); digest.update(labels.tobytes())
face = (time.perf_counter() - clock) / faces
one_view = SynthSpec(**{**spec.__dict__, "views": 1})
with tempfile.TemporaryDirectory() as tmp:
    clock = time.perf_counter()
    _subject_rows(Path(tmp), one_view, start, "train")
    view = time.perf_counter() - clock
    digest.update((Path(tmp) / f"s{start:04d}/v00/olat.npy").read_bytes())
print(json.dumps({"face": face, "view": view, "digest": digest.hexdigest()}))
"""


def against_revision(revision: str, faces: int, rounds: int = 3) -> None:
    """This tree's face images and views against ``revision``'s, alternating, in one run."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), revision], cwd=root, check=True,
                       capture_output=True)
        try:
            results: dict[str, list[dict]] = {"baseline": [], "this tree": []}
            for round_ in range(rounds):
                for name, source in (("baseline", tree), ("this tree", root)):
                    env = {**os.environ, "PYTHONPATH": str(source)}
                    run = subprocess.run([sys.executable, "-c", _ROUND, str(faces), str(100 * round_)], cwd=source,
                                         env=env, capture_output=True, text=True)
                    if run.returncode:
                        raise SystemExit(f"{name} ({source}) failed:\n{run.stderr[-3000:]}")
                    results[name].append(json.loads(run.stdout.strip().splitlines()[-1]))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=root, check=True)
    median = {name: {key: float(np.median([r[key] for r in rows])) for key in ("face", "view")}
              for name, rows in results.items()}
    same = all(a["digest"] == b["digest"] for a, b in zip(results["baseline"], results["this tree"]))
    for key, unit in (("face", "face image"), ("view", "light-stage view")):
        old, new = median["baseline"][key], median["this tree"][key]
        print(f"per {unit}: {revision} {old:.3f} s, this tree {new:.3f} s: {old / new:.2f}x faster")
    print(f"rendered bytes ({rounds} x {faces} faces and one view each): {'identical' if same else 'DIFFERENT'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="default", choices=PROFILES)
    parser.add_argument("--baseline", help="a git revision: time its face images and views against this tree's")
    parser.add_argument("--faces", type=int, default=24, help="face images per round with --baseline")
    args = parser.parse_args()
    if args.baseline:
        against_revision(args.baseline, args.faces)
        return
    raw = load_params(Path("params.yaml"), profile=args.profile).section("synth")
    res, ss, lights = raw.resolution, raw.supersample, uniform_light_set(raw.lights)
    pixel = pixel_size(LIGHTSTAGE_RADIUS, res)
    subject = sample_subject(rng_for(0, "subject", 0), pixel=pixel, max_facet_px=raw.max_facet_px)
    coarse = sample_subject(rng_for(0, "subject", 0))
    camera = camera_label(orbit_camera(0.3, 0.0))
    samples = trace(subject, camera, res, ss)
    view = render_view(subject, camera, lights.directions, lights.solid_angles, res, ss)
    maps = {"h": procedural_sky(rng_for(0, "hdri", 0), raw.hdri_height)}
    face_samples = trace(subject, camera, raw.face_resolution, raw.face_supersample)
    face_lights = uniform_light_set(raw.face_lights).directions
    white = np.full((len(face_lights), 3), 1.0 / len(face_lights))
    face_spec = FaceSpec(0, raw.face_resolution, raw.face_supersample, raw.face_lights, 0.1, raw.max_facet_px)
    coarse_face_spec = FaceSpec(0, raw.face_resolution, raw.face_supersample, raw.face_lights, 0.1, float("inf"))

    with tempfile.TemporaryDirectory() as tmp:
        timings = {
            "subject sampling": median_seconds(lambda: sample_subject(rng_for(0, "subject", 1), pixel=pixel,
                                                                      max_facet_px=raw.max_facet_px)),
            "trace (rays, hits, fuzz)": median_seconds(lambda: trace(subject, camera, res, ss)),
            f"OLAT stack, {raw.lights} lights": median_seconds(lambda: [lit_image(subject, samples, d) for d in lights.directions], 1),
            "  of which shadow rays": median_seconds(lambda: [shade(subject, samples.solid, d) for d in lights.directions], 1)
            - median_seconds(lambda: [shade(subject, samples.solid, d, shadows=False) for d in lights.directions], 1),
            "whole view (render_view)": median_seconds(lambda: render_view(subject, camera, lights.directions, lights.solid_angles, res, ss), 1),
            "write one view (float16 .npy)": median_seconds(lambda: save_array(Path(tmp) / "olat.npy", view.olat)),
            "one HDR map": median_seconds(lambda: procedural_sky(rng_for(0, "hdri", 1), raw.hdri_height)),
            "one face image": median_seconds(lambda: render_face(face_spec, 0, maps)),
            "one face image, meshes unrefined": median_seconds(lambda: render_face(coarse_face_spec, 0, maps)),
            "whole view, meshes unrefined": median_seconds(
                lambda: render_view(coarse, camera, lights.directions, lights.solid_angles, res, ss), 1),
            "face lighting, shadow rays one light at a time": median_seconds(
                lambda: weighted_image(subject, face_samples, face_lights, white, rays_per_call=0), 1),
            "face lighting, shadow rays batched": median_seconds(
                lambda: weighted_image(subject, face_samples, face_lights, white), 1),
        }
    per_view = timings["whole view (render_view)"]
    print(f"profile {args.profile}: {res}x{res} x{ss}^2 samples, {raw.lights} lights, faces {raw.face_resolution}^2 x{raw.face_supersample}^2")
    print(f"{'component':46s} {'seconds':>9s} {'/ view':>8s}")
    for name, seconds in timings.items():
        print(f"{name:46s} {seconds:9.4f} {seconds / per_view:8.3f}")
    batched = timings["face lighting, shadow rays one light at a time"] / timings["face lighting, shadow rays batched"]
    print(f"face lighting: shadow rays of many lights cast together, {batched:.2f}x as fast as one light at a time")
    print(f"refined meshes (max_facet_px {raw.max_facet_px}) cost {per_view / timings['whole view, meshes unrefined']:.2f}x "
          f"per view and {timings['one face image'] / timings['one face image, meshes unrefined']:.2f}x per face image")
    views, faces = raw.subjects * raw.views, raw.faces
    serial = views * (per_view + timings["write one view (float16 .npy)"]) + faces * timings["one face image"] + raw.hdris * timings["one HDR map"]
    print(f"estimated serial total: {serial:.1f} s ({views} views, {faces} faces, {raw.hdris} maps); "
          f"with {raw.workers} workers about {serial / raw.workers:.1f} s")

    rng = np.random.default_rng(7)
    env = smooth_environment(32, rng)
    lin_subject = sample_subject(rng)
    reference = direct_render(lin_subject, camera, env, 32, 1)
    errors = {count: relative_error(olat_render(lin_subject, camera, env, count, 32, 1), reference) for count in (16, 64, 256)}
    print("linearity (OLAT relighting vs direct integration, relative mean abs error): "
          + ", ".join(f"L={count}: {error:.4f}" for count, error in errors.items()))


if __name__ == "__main__":
    main()
