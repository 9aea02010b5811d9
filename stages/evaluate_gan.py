"""Stage ``evaluate_gan``: every trained 3D-aware generator (EG3D, pi-GAN) against the real faces, one table.

The real images (``evaluate_gan.images`` of the dataset, drawn at random) are split in two:
the reference half, which everything is compared with, and the other half, the baseline
of real against real: the floor a perfect generator would reach at this n. Each generator
makes as many images as the reference half, each z rendered from a camera drawn from the
dataset's and conditioned on it (EG3D's protocol; pi-GAN takes no conditioning) through the
generators' one interface (``pipeline.gan3d.sample``), deterministic rendering, no truncation,
and so does the same network at initialisation (the ceiling; ``init_images`` of them).
Scores: FID and KID on
Inception features, SWD per Laplacian level (``pipeline.metrics.gan``), all at the
dataset's resolution. The FID/KID curve over training (kimg) scores the run's snapshots (the
last, which is the final generator, on the first of the table's pictures).

Multi-view consistency (``pipeline.metrics.multiview``): heads seen from yaw -a and +a, the
conditioning fixed at the frontal camera; the left view reprojected into the right with the
rendered depth, the mean absolute error (in [0, 1] pixel units) over co-visible pixels, for
the super-resolved image and the raw rendering (for pi-GAN the same picture), beside the same error between different
heads (what "unrelated" measures) and the co-visible share.

Pose accuracy and identity (``pipeline.metrics.faces``, dlib; pictures upsampled to 256 px
for its detector): the ``poses`` stage's estimator on generated images at their known
cameras, against the same estimator on real images and their labels (its own floor); dlib's
embeddings of the two views of each head, against a real image and its mirrored copy.

FENeRF's segmentation (``pipeline.gan3d.fenerf``): real crops inverted at their cameras, the
fit's rendered classes against the crops' label maps (mean IoU); and a picture of generated faces
beside their segmentations at three yaws.

Inversion for novel views (``pipeline.gan3d.inversion``, pi-GAN's test; EG3D fits one w):
held-out synthetic subjects turning their heads under one held-out map (``pipeline.synth.turns``,
framed as the face set, so each view's label is its true camera), the frontal view fitted with the
generator frozen, the fit rendered at every view's camera; PSNR of the fitted view and of the
others, each beside the PSNR at the mean latent (no fit), and a picture (truth and fit rows).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from pipeline import DataError
from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.fields.siren import Modulation
from pipeline.gan3d.data import FaceSet, from_signed, to_signed
from pipeline.gan3d.fenerf import FenerfGenerator
from pipeline.gan3d.generators import load_generator
from pipeline.gan3d.inversion import invert, psnr
from pipeline.gan3d.segmented import SegmentedFaceSet
from pipeline.gan3d.sample import render_conditioned, view_pair
from pipeline.io.arrays import save_png
from pipeline.io.resize import resize_picture
from pipeline.io.sheet import grid, label
from pipeline.metrics.faces import identity_scores, pose_errors
from pipeline.metrics.gan import frechet_distance, Inception, kernel_distance, swd
from pipeline.metrics.multiview import consistency_error
from pipeline.schema.evaluate_gan import EvaluateGanParams
from pipeline.seeds import rng_for
from pipeline.stage import StageContext, StageResult, stage_main
from pipeline.synth.hdri import procedural_sky
from pipeline.synth.preview import LABEL_COLOURS
from pipeline.synth.turns import render_turn, Turn

INPUTS = ("dataset", "eg3d", "pigan", "fenerf")
OUTPUTS = ("report",)
TEMPLATE = "template.json"  # the poses stage's landmark template, in the dataset folder
GENERATORS = ("eg3d", "pigan", "fenerf")  # inputs: model folders with generator.pt and snapshots/ (pipeline.gan3d.snapshots)
MODEL_FILE = "generator.pt"
TURN_RESOLUTION, TURN_LIGHTS, TURN_FACET_PX, TURN_MAP_HEIGHT = 128, 16, 0.75, 64  # as synth's default face set


class Scorer:
    """Scores sets of pictures against the reference reals (features computed once)."""

    def __init__(self, inception: Inception, reference: np.ndarray, cfg: EvaluateGanParams, seed: int):
        self.inception, self.reference, self.cfg, self.seed = inception, reference, cfg, seed
        self.features = inception.features(reference, cfg.batch, "inception: reference reals")

    def embed(self, pictures: np.ndarray, name: str) -> np.ndarray:
        """Inception features (N, 2048) of ``pictures`` (a progress bar named ``name``)."""
        return self.inception.features(pictures, self.cfg.batch, f"inception: {name}")

    def __call__(self, pictures: np.ndarray, name: str, with_swd: bool = True, features: np.ndarray | None = None
                 ) -> dict[str, float]:
        """FID, KID (and SWD) of ``pictures`` against the reference; ``features``: theirs, when already computed."""
        features = self.embed(pictures, name) if features is None else features
        # subsets of half the images, so that their spread says how much KID moves with the draw
        kid, kid_std = kernel_distance(self.features, features, self.cfg.kid_subsets, max(2, len(pictures) // 2),
                                       rng_for(self.seed, "evaluate-gan-kid"))
        scores = {"fid": frechet_distance(self.features, features), "kid": kid, "kid_std": kid_std}
        if with_swd:
            scores.update(swd(self.reference[:len(pictures)], pictures, self.cfg.swd_patches, self.seed))
        return scores


def at_side(pictures: np.ndarray, side: int) -> np.ndarray:
    """Pictures (N, H, W, 3) uint8 brought to ``side`` x ``side`` (as they are when already that size)."""
    if pictures.shape[1:3] == (side, side):
        return pictures
    return np.stack([resize_picture(p, side, side) for p in pictures])


def generate(generator: torch.nn.Module, faces: FaceSet, count: int, seed: int, batch: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """``count`` pictures at the dataset's cameras and resolution, and those cameras (count, 25);
    the same z and cameras for any generator, and the first k of any count are those of count k
    (cameras and z come from two streams)."""
    picks = rng_for(seed, "evaluate-gan-fakes", 0).integers(len(faces), size=count)
    cameras = torch.from_numpy(faces.cameras[picks])
    z = torch.from_numpy(rng_for(seed, "evaluate-gan-fakes", 1).standard_normal((count, generator.z_dim))).float()
    pictures = render_conditioned(generator, z, cameras, batch=batch)
    return at_side(pictures, faces.resolution), cameras.numpy()


def multiview(generator: torch.nn.Module, cfg: EvaluateGanParams, seed: int, resolution: int) -> dict[str, float]:
    z = torch.from_numpy(rng_for(seed, "evaluate-gan-multiview").standard_normal((cfg.multiview_heads,
                                                                                  generator.z_dim))).float()
    left, right, camera_left, camera_right = view_pair(generator, z, cfg.multiview_yaw, cfg.batch)
    unit = lambda x: (x.clamp(-1, 1) + 1) / 2  # noqa: E731
    cams = (camera_left.expand(len(z), -1), camera_right.expand(len(z), -1))
    image, covisible = consistency_error(unit(left.image), left.depth, cams[0], unit(right.image), right.depth, cams[1],
                                         cfg.multiview_tolerance)
    raw, _ = consistency_error(unit(left.raw), left.depth, cams[0], unit(right.raw), right.depth, cams[1],
                               cfg.multiview_tolerance)
    other, _ = consistency_error(unit(left.image.roll(1, 0)), left.depth.roll(1, 0), cams[0], unit(right.image),
                                 right.depth, cams[1], cfg.multiview_tolerance)
    views = [at_side(from_signed(view.image), resolution) for view in (left, right)]
    return {"multiview_error": image, "multiview_raw_error": raw, "multiview_other_head_error": other,
            "multiview_covisible": covisible, **identity_scores(list(views[0]), list(views[1]))}


def enlarged(picture: np.ndarray, side: int = 128) -> np.ndarray:
    """A small picture with its pixels repeated up to about ``side`` (for people, and the labels)."""
    times = max(1, side // picture.shape[0])
    return picture.repeat(times, axis=0).repeat(times, axis=1)


def curve_snapshots(folder: Path, points: int) -> list[Path]:
    """At most ``points`` snapshots of a run, evenly spaced, the last included."""
    snapshots = sorted(folder.glob("step*.pt"))
    if len(snapshots) <= points:
        return snapshots
    picks = np.unique(np.round(np.linspace(len(snapshots) - 1, 0, points)).astype(int))
    return [snapshots[k] for k in sorted(picks)]


def held_out_turns(cfg: EvaluateGanParams, seed: int) -> list[Turn]:
    """The inversion test set: held-out subjects at ``inversion_yaws`` under one held-out map."""
    env = procedural_sky(rng_for(seed, "evaluate-gan-inversion-map"), TURN_MAP_HEIGHT)
    yaws = np.radians(cfg.inversion_yaws)
    return [render_turn(seed, index, env, yaws, TURN_RESOLUTION, TURN_LIGHTS, TURN_FACET_PX)
            for index in tqdm(range(cfg.inversion_subjects), desc="held-out turns", unit="subject")]


def inversion_scores(generator: torch.nn.Module, turns: list[Turn], cfg: EvaluateGanParams, device: str
                     ) -> tuple[dict[str, float], list[list[np.ndarray]]]:
    """Fit each subject's frontal view (``inversion_steps`` of Adam on the latent, the generator frozen)
    and render the fit at every yaw's true camera: the PSNR of the fitted view and of the novel
    views, each beside the same at the mean latent (before the fit); and preview rows (truth, fit)."""
    side = cfg.inversion_resolution
    frontal = int(np.argmin(np.abs(np.asarray(cfg.inversion_yaws))))
    fitted, novel, fitted_start, novel_start, rows = [], [], [], [], []
    for turn in tqdm(turns, desc="inversion", unit="subject"):
        targets = to_signed(at_side(turn.pictures, side)).to(device)
        cameras = torch.from_numpy(turn.cameras).to(device)
        with torch.no_grad():
            start = psnr(generator.render_latent(generator.mean_latent(), cameras, side), targets).cpu().numpy()
        fit = invert(generator, targets[frontal:frontal + 1], cameras[frontal:frontal + 1], cfg.inversion_steps,
                     cfg.inversion_rate)
        with torch.no_grad():
            rendered = generator.render_latent(fit.latent, cameras, side)
        scores = psnr(rendered, targets).cpu().numpy()
        others = np.arange(len(scores)) != frontal
        fitted.append(scores[frontal])
        fitted_start.append(start[frontal])
        novel += list(scores[others])
        novel_start += list(start[others])
        rows += [[enlarged(p) for p in from_signed(targets)], [enlarged(p) for p in from_signed(rendered)]]
    return {"inversion_psnr_fitted": float(np.mean(fitted)), "inversion_psnr_novel": float(np.mean(novel)),
            "inversion_psnr_fitted_at_mean": float(np.mean(fitted_start)),
            "inversion_psnr_novel_at_mean": float(np.mean(novel_start))}, rows


def segmentation_scores(generator: FenerfGenerator, faces: SegmentedFaceSet, picks: np.ndarray,
                        cfg: EvaluateGanParams, device: str) -> tuple[dict[str, float], list[list[np.ndarray]]]:
    """FENeRF's segmentation of real crops it inverts: each crop (``picks``) fitted at its dataset
    camera (the generator frozen, ``inversion_steps``), the fit's class probabilities rendered there,
    their argmax against the crop's label map (nearest neighbours to ``inversion_resolution``): the
    mean IoU over the classes either holds, pooled over the crops; and preview rows (crop, its
    labels, the fit, its segmentation)."""
    side = cfg.inversion_resolution
    classes = generator.config.field.classes
    intersection, union, rows = np.zeros(classes), np.zeros(classes), []
    for k in tqdm(picks, desc="fenerf: segmenting inverted reals", unit="image"):
        target = to_signed(at_side(faces.picture(int(k))[None], side)).to(device)
        truth = resize_picture(faces.segment(int(k)), side, side, nearest=True)
        camera = torch.from_numpy(faces.cameras[int(k)][None]).to(device)
        fit = invert(generator, target, camera, cfg.inversion_steps, cfg.inversion_rate)
        with torch.no_grad():
            out = generator.render(Modulation(*fit.latent), camera, side, deterministic=True)
        predicted = out.segmentation[0].argmax(dim=0).cpu().numpy()
        for c in range(classes):
            intersection[c] += np.sum((predicted == c) & (truth == c))
            union[c] += np.sum((predicted == c) | (truth == c))
        rows.append([enlarged(p) for p in (from_signed(target)[0], LABEL_COLOURS[truth].astype(np.uint8),
                                           from_signed(out.image)[0], LABEL_COLOURS[predicted].astype(np.uint8))])
    present = union > 0
    return {"segmentation_miou": float(np.mean(intersection[present] / union[present])),
            "segmentation_images": len(picks)}, rows


def semantic_views(generator: FenerfGenerator, seeds: int, yaws: tuple[float, ...] = (-30.0, 0.0, 30.0)
                   ) -> list[list[np.ndarray]]:
    """Rows of generated faces beside their rendered segmentations (argmax) at three yaws."""
    rows = []
    for seed in range(seeds):
        z = torch.from_numpy(rng_for(seed, "evaluate-gan-semantic").standard_normal((1, generator.z_dim))).float()
        row = []
        for yaw in yaws:
            out = generator.views(z, torch.from_numpy(camera_label(orbit_camera(np.radians(yaw), 0.0))[None]).float())
            row += [enlarged(from_signed(out.image)[0]),
                    enlarged(LABEL_COLOURS[out.segmentation[0].argmax(dim=0).numpy()].astype(np.uint8))]
        rows.append(row)
    return rows


def evaluate_generator(name: str, generator: torch.nn.Module, payload: dict, snapshots: Path, faces: FaceSet,
                       scorer: Scorer, template: np.ndarray, cfg: EvaluateGanParams, seed: int, device: str
                       ) -> tuple[dict, list, list]:
    """One generator's rows of the table (``name`` and ``name_init``), its preview rows and its curve points
    (``payload``: its model file's, ``snapshots``: the folder of the run's snapshots)."""
    half = cfg.images // 2
    fakes, cameras = generate(generator, faces, half, seed, cfg.batch)
    fake_features = scorer.embed(fakes, name)
    torch.manual_seed(seed)  # as the training stage seeds before it builds the generator
    initial = generator.config.build().to(device).eval()
    initial_fakes, _ = generate(initial, faces, min(cfg.init_images, half), seed, cfg.batch)
    table = {}
    for key, net, pictures, features in ((name, generator, fakes, fake_features),
                                         (f"{name}_init", initial, initial_fakes, None)):
        table[key] = {**scorer(pictures, key, features=features), **multiview(net, cfg, seed, faces.resolution),
                      **pose_errors(pictures[:cfg.pose_images], cameras[:cfg.pose_images], template)}
    table[name]["kimg"] = float(payload.get("kimg", 0.0))
    rows = [[label(enlarged(p), name) for p in fakes[:cfg.grid_images]],
            [label(enlarged(p), f"{name} at init") for p in initial_fakes[:cfg.grid_images]]]
    curve = []
    count = min(cfg.curve_images, half)
    for snapshot_path in tqdm(curve_snapshots(snapshots, cfg.curve_points), desc=f"{name} curve", unit="snapshot"):
        snapshot, info = load_generator(snapshot_path, device)
        if info.get("step") == payload.get("step"):  # the last snapshot is the final generator: its first fakes
            scores = scorer(fakes[:count], snapshot_path.stem, with_swd=False, features=fake_features[:count])
        else:
            scores = scorer(generate(snapshot, faces, count, seed, cfg.batch)[0], snapshot_path.stem, with_swd=False)
        curve.append({"generator": name, "kimg": float(info["kimg"]), **scores})
    return table, rows, curve


def run(ctx: StageContext, inputs: dict[str, Path], outputs: dict[str, Path]) -> StageResult:
    cfg, seed, device = ctx.params, ctx.base.seed, ctx.execution.device
    faces = FaceSet.native(inputs["dataset"], preload=False)  # only the drawn images are read
    if len(faces) < cfg.images:
        raise DataError(f"{inputs['dataset']}: {len(faces)} images, fewer than evaluate_gan.images ({cfg.images})")
    drawn = rng_for(seed, "evaluate-gan-reals").choice(len(faces), cfg.images, replace=False)
    half = cfg.images // 2
    reals = np.stack([faces.picture(k) for k in tqdm(drawn, desc="read reals", unit="image", leave=False)])
    reference, other = reals[:half], reals[half:2 * half]
    template_file = inputs["dataset"] / TEMPLATE
    if not template_file.is_file():
        raise DataError(f"{template_file}: not found; the poses stage writes the landmark template pose accuracy needs")
    template = np.asarray(json.loads(template_file.read_text())["landmarks_3d"])
    scorer = Scorer(Inception(device), reference, cfg, seed)
    real_cameras = faces.cameras[drawn[:cfg.pose_images]]
    table = {"real_split": {**scorer(other, "other reals"),
                            **pose_errors(reference[:cfg.pose_images], real_cameras, template),
                            **identity_scores(list(other[:cfg.multiview_heads]),
                                              [p[:, ::-1] for p in other[:cfg.multiview_heads]])}}
    rows, curve, inversion_rows, semantic_rows = [[label(enlarged(p), "real") for p in other[:cfg.grid_images]]], [], [], []
    turns = held_out_turns(cfg, seed) if cfg.inversion_subjects else []
    for name in GENERATORS:
        generator, payload = load_generator(inputs[name] / MODEL_FILE, device)
        scores, pictures, points = evaluate_generator(name, generator, payload, inputs[name] / "snapshots", faces, scorer,
                                                      template, cfg, seed, device)
        table.update(scores)
        rows += pictures
        curve += points
        if turns:
            inverted, fits = inversion_scores(generator, turns, cfg, device)
            table[name].update(inverted)
            inversion_rows += [[label(p, f"{name} {'truth' if k % 2 == 0 else 'fit'}") if j == 0 else p
                                for j, p in enumerate(row)] for k, row in enumerate(fits)]
        if isinstance(generator, FenerfGenerator):
            segmented = SegmentedFaceSet(inputs["dataset"], faces.resolution, preload=False)
            scores, pictures = segmentation_scores(generator, segmented, drawn[:cfg.inversion_subjects], cfg, device)
            table[name].update(scores)
            semantic_rows = [[label(p, text) if text else p for p, text in zip(row, ("crop", "labels", "fit", "parsed"))]
                             for row in pictures] + semantic_views(generator, cfg.grid_images // 2)
    report = outputs["report"]
    report.mkdir(parents=True, exist_ok=True)
    picture = grid(rows)
    save_png(report / "samples.png", picture)
    previews = {"samples": picture}
    if inversion_rows:
        previews["inversion"] = grid(inversion_rows)
        save_png(report / "inversion.png", previews["inversion"])
    if semantic_rows:
        previews["fenerf_segmentation"] = grid(semantic_rows)
        save_png(report / "fenerf_segmentation.png", previews["fenerf_segmentation"])
    pd.DataFrame(curve).to_csv(report / "curve.csv", index=False, float_format="%.6g")
    metrics = {"images_per_set": half, "init_images": min(cfg.init_images, half),
               "curve_images": min(cfg.curve_images, half), "resolution": faces.resolution,
               **table}
    plot = pd.DataFrame(curve)[["generator", "kimg", "fid", "kid"]] if curve else pd.DataFrame(
        columns=["generator", "kimg", "fid", "kid"])
    return StageResult(metrics=metrics, previews=previews, plot=plot)


def main(argv: list[str] | None = None) -> int:
    return stage_main("evaluate_gan", run, schema=EvaluateGanParams, inputs=INPUTS, outputs=OUTPUTS, argv=argv,
                      plots=True)


if __name__ == "__main__":
    raise SystemExit(main())
