"""EG3D's training on the engine: the dataset's errors, the samples, the augmentation, the
recipe's ramps, one real step, and a resume that reaches the weights of an uninterrupted run."""

import json
from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch

from pipeline import DataError
from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.config import load_params
from pipeline.gan3d.augment import augment, cutout, translation
from pipeline.gan3d.data import FaceSet, GanSamples
from pipeline.gan3d.eg3d import EG3DRecipe, EG3DStep, eg3d_optimizers, RenderPhase
from pipeline.io.arrays import save_png
from pipeline.models import checkpoint
from pipeline.poses.fit import mirror_label
from pipeline.render.rays import camera_rays
from pipeline.training import SampleKey, STATE_FILE, Trainer, TrainSettings
from tests.conftest import ROOT


def write_dataset(root, count=6, size=16, seed=0):
    rng = np.random.default_rng(seed)
    labels = []
    for k in range(count):
        name = f"images/img{k:08d}.png"
        save_png(root / name, rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
        labels.append([name, camera_label(orbit_camera(np.radians(rng.uniform(-30, 30)), 0.0)).tolist()])
    (root / "dataset.json").write_text(json.dumps({"labels": labels}))
    return labels


def test_a_bad_dataset_json_names_the_entry(tmp_path):
    labels = write_dataset(tmp_path)
    assert len(FaceSet(tmp_path, 16)) == 6
    broken = [labels[0], [labels[1][0], labels[1][1][:24]]]
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": broken}))
    with pytest.raises(DataError, match=r"labels\[1\] \(images/img00000001.png\): the camera has 24 numbers, not 25"):
        FaceSet(tmp_path, 16)
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": [labels[0], ["images/gone.png", labels[1][1]]]}))
    with pytest.raises(DataError, match=r"labels\[1\] \(images/gone.png\): .*gone.png not found"):
        FaceSet(tmp_path, 16)
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": [labels[0], labels[0]]}))
    with pytest.raises(DataError, match=r"labels\[1\].*labelled twice"):
        FaceSet(tmp_path, 16)
    (tmp_path / "dataset.json").write_text("{not json")
    with pytest.raises(DataError, match="dataset.json: not an EG3D dataset.json"):
        FaceSet(tmp_path, 16)
    (tmp_path / "dataset.json").unlink()
    with pytest.raises(DataError, match="dataset.json: not found"):
        FaceSet(tmp_path, 16)


def test_images_must_be_square_and_not_smaller_than_the_model(tmp_path):
    write_dataset(tmp_path)
    with pytest.raises(DataError, match="16 pixels, smaller than the 32"):
        FaceSet(tmp_path, 32)
    save_png(tmp_path / "images/img00000002.png", np.zeros((16, 20, 3), np.uint8))
    with pytest.raises(DataError, match=r"img00000002.png: 20x16 pixels is not square"):
        FaceSet(tmp_path, 16)
    faces = FaceSet(tmp_path, 16, preload=False)  # read on demand: the error comes with the image
    faces.picture(1)
    with pytest.raises(DataError, match="not square"):
        faces.picture(2)


def test_samples_depend_only_on_the_seed_and_their_index(tmp_path):
    write_dataset(tmp_path)
    faces = FaceSet(tmp_path, 16)
    samples = GanSamples(faces, z_dim=8, seed=3)
    batch = samples.collate([samples[SampleKey(i, 0)] for i in (5, 2)])
    again = samples.collate([samples[SampleKey(2, 0)]])
    assert batch.real.shape == (2, 3, 16, 16) and batch.z.shape == (2, 8) and batch.cameras.shape == (2, 25)
    assert -1 <= batch.real.min() and batch.real.max() <= 1
    assert torch.equal(batch.real[1], again.real[0]) and torch.equal(batch.z[1], again.z[0])
    lazy = GanSamples(FaceSet(tmp_path, 16, preload=False), z_dim=8, seed=3)
    assert torch.equal(lazy.collate([lazy[SampleKey(2, 0)]]).real, again.real)
    other = GanSamples(faces, z_dim=8, seed=4).collate([GanSamples(faces, z_dim=8, seed=4)[SampleKey(2, 0)]])
    assert not torch.equal(other.z, again.z)
    assert (batch.real_cameras[:, None] == torch.from_numpy(faces.cameras)).all(-1).any(-1).all()  # the dataset's own


def test_translation_shifts_whole_pixels_within_an_eighth_and_cutout_zeroes_a_quarter():
    torch.manual_seed(0)
    x = torch.rand(16, 6, 32, 32) + 1.0  # no zeros of its own
    moved = translation(x)
    for image, original in zip(moved, x):
        found = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)
                 if torch.equal(image, torch.roll(original, (-dy, -dx), (1, 2)) * _inside(dy, dx, 32))]
        assert len(found) == 1
    cut = cutout(x)
    zeroed = (cut == 0).float()
    assert torch.equal(zeroed[:, :1].expand_as(zeroed), zeroed)  # the dual image's halves cut alike
    share = zeroed[:, 0].mean((1, 2))
    assert share.max() <= 0.25 and share.min() > 0.0 and float(share.mean()) > 0.1


def _inside(dy: int, dx: int, side: int) -> torch.Tensor:
    rows = torch.arange(side)[:, None] + dy
    cols = torch.arange(side)[None, :] + dx
    return ((rows >= 0) & (rows < side) & (cols >= 0) & (cols < side)).float()


def test_augmentation_is_differentiable_and_treats_each_rgb_image_alike():
    torch.manual_seed(1)
    x = torch.rand(4, 6, 16, 16, requires_grad=True)
    out = augment(x, ("color", "translation", "cutout"))
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    torch.manual_seed(2)
    same = torch.rand(4, 3, 16, 16)
    torch.manual_seed(5)
    twice = augment(torch.cat([same, same], 1), ("color", "translation"))
    assert torch.allclose(twice[:, :3], twice[:, 3:])
    assert torch.equal(augment(same, ()), same)


def test_the_recipes_ramps():
    recipe = EG3DRecipe(swap_probability=0.5, swap_fade_steps=100, ema_half_life_images=1000.0, ema_rampup=0.05)
    assert recipe.swap_probability_at(0) == 1.0 and recipe.swap_probability_at(50) == 0.75
    assert recipe.swap_probability_at(100) == recipe.swap_probability_at(10_000) == 0.5
    assert recipe.ema_half_life(0, batch=8) == pytest.approx(0.05)  # 8 images seen, 5 % of them
    assert recipe.ema_half_life(10_000, batch=8) == pytest.approx(125.0)  # 1,000 images
    phased = EG3DRecipe(rendering=(RenderPhase(10, 16), RenderPhase(5, 24)))
    assert [phased.resolution_at(s, 32) for s in (0, 9, 10, 14, 15, 99)] == [16, 16, 24, 24, 32, 32]


def test_the_mirror_rule_flips_the_rays():
    """The mirrored camera (EG3D's dataset rule) sees the x-mirrored world in the flipped image."""
    label = camera_label(orbit_camera(np.radians(25.0), np.radians(10.0)))
    rays, mirrored = (camera_rays(torch.tensor(c[None], dtype=torch.float64), 8) for c in (label, mirror_label(label)))
    flip = torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    as_grid = lambda t: t.reshape(1, 8, 8, 3)  # noqa: E731
    assert torch.allclose(as_grid(mirrored.origins), as_grid(rays.origins * flip).flip(2))
    assert torch.allclose(as_grid(mirrored.directions), as_grid(rays.directions * flip).flip(2), atol=1e-12)


def tiny_setup(tmp_path, steps: int):
    params = load_params(ROOT / "params.yaml", profile="tiny").section("train_eg3d")
    torch.manual_seed(0)
    generator, discriminator = params.model.build(), params.discriminator.build()
    settings = TrainSettings(steps, params.batch, params.checkpoint_every, 0, "eg3d")
    trainer = Trainer({"generator": generator, "discriminator": discriminator},
                      eg3d_optimizers(generator, discriminator, params.recipe), settings,
                      averages={"generator": partial(params.recipe.ema_half_life, batch=params.batch)})
    faces = FaceSet(tmp_path / "data", params.model.output_resolution)
    return trainer, GanSamples(faces, params.model.z_dim, 0), EG3DStep(params.recipe, params.batch)


def all_weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    modules = {**trainer.modules, "ema": trainer.trained("generator")}
    return {f"{name}.{key}": value for name, module in modules.items() for key, value in module.state_dict().items()}


def test_training_steps_move_both_networks_and_the_average(tmp_path):
    write_dataset(tmp_path / "data")
    trainer, data, step = tiny_setup(tmp_path, steps=4)
    before = {k: v.clone() for k, v in all_weights(trainer).items()}
    trainer.fit(data, step, tmp_path / "work", "tag")
    after = all_weights(trainer)
    for prefix in ("generator.", "discriminator.", "ema."):
        changed = [k for k in before if k.startswith(prefix) and not torch.equal(before[k], after[k])]
        assert changed, prefix
    table = pd.read_csv(tmp_path / "work" / "history.csv")
    assert np.isfinite(table[["generator", "discriminator"]].to_numpy()).all()
    assert table["r1"].notna().tolist() == [True, False, True, False]  # tiny: R1 every 2 steps
    assert table["density"].notna().sum() == 2


def test_an_interrupted_run_resumes_to_the_weights_of_a_whole_one(tmp_path):
    write_dataset(tmp_path / "data")
    clean, data, step = tiny_setup(tmp_path, steps=4)
    clean.fit(data, step, tmp_path / "clean", "tag")
    half, data, step = tiny_setup(tmp_path, steps=2)
    half.fit(data, step, tmp_path / "work", "tag")
    assert checkpoint.load(tmp_path / "work" / STATE_FILE)["step"] == 2
    resumed, data, step = tiny_setup(tmp_path, steps=4)
    assert resumed.fit(data, step, tmp_path / "work", "tag") == 2
    whole, parts = all_weights(clean), all_weights(resumed)
    assert whole.keys() == parts.keys()
    for key, value in whole.items():
        assert torch.equal(value, parts[key]), key


def test_sample_takes_negative_angles_as_written():
    from pipeline.cli import angle_list, joined_angles, seed_list

    argv = joined_angles(["sample", "--yaw", "-30,0,30", "--pitch", "-5", "--seeds", "0-2,7", "-o", "x.png"])
    assert argv == ["sample", "--yaw=-30,0,30", "--pitch=-5", "--seeds", "0-2,7", "-o", "x.png"]
    assert seed_list("0-2,7") == [0, 1, 2, 7] and angle_list("-30,0,30") == [-30.0, 0.0, 30.0]


@pytest.mark.slow
def test_the_stage_trains_in_two_processes(tmp_path):
    """``LIGHTSTAGE_NPROC=2``: the stage relaunches itself under torchrun (gloo on the CPU), each
    process half the batch, lazy R1 through ``autograd.grad`` and the EMA on every rank; rank 0
    writes. A smoke test of that path: it is not compared with one process, because the
    discriminator's minibatch deviation and the mapping's mean of w are per process, as in
    StyleGAN2, so the weights differ by design."""
    import subprocess
    import sys

    import yaml

    from tests.conftest import tool_env

    write_dataset(tmp_path / "data", count=8, size=16)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["base"]["profile"] = "tiny"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    done = subprocess.run([sys.executable, "-m", "stages.train_eg3d", "--params", str(tmp_path / "params.yaml"),
                           "--no-track", "--metrics", str(tmp_path / "m.json"), "--plots", str(tmp_path / "p.csv"),
                           "--previews", str(tmp_path / "previews"), "--dataset", str(tmp_path / "data"),
                           "--model", str(tmp_path / "model")], cwd=ROOT, capture_output=True, text=True,
                          env=tool_env(LIGHTSTAGE_NPROC="2", OMP_NUM_THREADS="1"))
    assert done.returncode == 0, done.stderr[-2000:]
    generator, payload = checkpoint.load_model(tmp_path / "model" / "generator.pt",
                                               type(load_params(ROOT / "params.yaml", profile="tiny")
                                                    .section("train_eg3d").model))
    assert payload["kimg"] == 0.008 and all(torch.isfinite(p).all() for p in generator.parameters())
    history = pd.read_csv(tmp_path / "p.csv")
    assert history["step"].tolist() == [1, 2, 3, 4] and np.isfinite(history["generator"]).all()
