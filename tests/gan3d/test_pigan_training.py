"""pi-GAN's curriculum and step on the engine: phases by step (the last one holds), rates and
batches that follow them, the fade-in, the pose angles, clipping, and a run interrupted
during a fade-in that resumes to the weights of an uninterrupted one."""


import dataclasses

import numpy as np
import pytest
import torch

from pipeline.camera.eg3d import camera_label, orbit_camera
from pipeline.fields.siren import SirenConfig, SirenMappingConfig
from pipeline.gan3d.data import FaceSet, GanSamples
from pipeline.gan3d.pigan import PiganConfig
from pipeline.gan3d.pigan_discriminator import PiganDiscriminatorConfig
from pipeline.gan3d.pigan_training import (orbit_angles, pigan_optimizers, PiganPhase, PiganRecipe, PiganStep,
                                           prior_cameras)
from pipeline.models import checkpoint
from pipeline.render.volume import VolumeConfig
from pipeline.training import SampleKey, STATE_FILE, Trainer, TrainSettings
from tests.gan3d.test_eg3d_training import write_dataset

GENERATOR = PiganConfig(mapping=SirenMappingConfig(z_dim=8, hidden=16, hidden_layers=1, layers=2, width=16),
                        field=SirenConfig(layers=2, width=16, box_warp=1.0), volume=VolumeConfig(coarse_samples=4, fine_samples=4))
DISCRIMINATOR = PiganDiscriminatorConfig(max_resolution=16, channel_base=64, channel_max=8)
CURRICULUM = (PiganPhase(steps=3, resolution=8, batch=4, generator_rate=1e-3, discriminator_rate=4e-3, samples_per_ray=3),
              PiganPhase(steps=4, resolution=16, batch=2, generator_rate=5e-4, discriminator_rate=2e-3, samples_per_ray=4,
                         fade_steps=4))
RECIPE = PiganRecipe(curriculum=CURRICULUM, density_noise_steps=4, topk_interval=2, ema_half_life=2.0)


def test_the_curriculum_reads_each_phase_by_step_and_holds_the_last():
    assert [RECIPE.phase(s)[0] for s in (0, 2, 3, 6, 7, 50)] == [0, 0, 1, 1, 1, 1]  # the last phase holds past its steps
    assert RECIPE.phase(50)[2] == 47
    assert [RECIPE.alpha(s) for s in (0, 2, 3, 4, 6, 7, 40)] == [1.0, 1.0, 0.0, 0.25, 0.75, 1.0, 1.0]
    assert [RECIPE.density_noise_at(s) for s in (0, 2, 4, 9)] == [1.0, 0.5, 0.0, 0.0]
    assert RECIPE.topk_share(0) == 1.0 and RECIPE.topk_share(2) == pytest.approx(0.99)
    assert RECIPE.topk_share(10_000) == RECIPE.topk_min
    assert [(p.steps, p.batch) for p in RECIPE.batch_phases] == [(3, 4)]
    same = PiganRecipe(curriculum=(CURRICULUM[0], PiganPhase(4, 8, 2, 1e-3, 4e-3, 3, fade_steps=4)))
    assert same.alpha(3) == 1.0  # no new block when the resolution does not grow


def test_each_network_s_rate_follows_its_phase():
    torch.manual_seed(0)
    generator, discriminator = GENERATOR.build(), DISCRIMINATOR.build()
    optimizers = pigan_optimizers(generator, discriminator, RECIPE)
    rates = []
    for step in (0, 2, 3, 9):
        for optimization in optimizers.values():
            optimization.set_rate(step, 10)
        rates += [optimizers[n].optimizer.param_groups[0]["lr"] for n in ("generator", "discriminator")]
    assert rates == pytest.approx([1e-3, 4e-3, 1e-3, 4e-3, 5e-4, 2e-3, 5e-4, 2e-3])
    assert optimizers["generator"].optimizer.param_groups[0]["betas"] == (0.0, 0.9)


def test_the_pose_angles_are_those_of_the_orbit():
    yaws, pitches = np.radians([-30.0, 0.0, 12.0]), np.radians([5.0, -10.0, 0.0])
    labels = torch.tensor(np.stack([camera_label(orbit_camera(y, p)) for y, p in zip(yaws, pitches)]), dtype=torch.float32)
    np.testing.assert_allclose(orbit_angles(labels).numpy(), np.stack([yaws, pitches], 1), atol=1e-6)


def test_prior_cameras_spread_about_the_front_as_asked_and_sit_on_the_orbit():
    cameras = prior_cameras((0.3, 0.155), 4000, np.random.default_rng(0))
    angles = orbit_angles(cameras).numpy()
    np.testing.assert_allclose(angles.mean(0), [0.0, 0.0], atol=0.015)
    np.testing.assert_allclose(angles.std(0), [0.3, 0.155], rtol=0.05)
    again = prior_cameras((0.3, 0.155), 4000, np.random.default_rng(0))
    assert torch.equal(cameras, again)
    # each is the orbit camera of its own angles (so the pose head regresses what placed it)
    rebuilt = torch.tensor(np.stack([camera_label(orbit_camera(y, p)) for y, p in angles[:5]]), dtype=torch.float32)
    torch.testing.assert_close(cameras[:5], rebuilt, atol=1e-5, rtol=0)


def test_with_a_camera_prior_fakes_are_seen_from_drawn_cameras_and_the_pose_term_ignores_the_reals(tmp_path):
    write_dataset(tmp_path / "data")
    prior = dataclasses.replace(RECIPE, camera_prior=(0.3, 0.155))
    seen = []
    for recipe in (RECIPE, prior):
        trainer, data = setup(tmp_path, steps=1)
        batch = data.collate([data[SampleKey(i, 0)] for i in range(4)])
        rendered = []
        trainer.modules["generator"].register_forward_pre_hook(lambda module, args: rendered.append(args[1].clone()))
        far = batch._replace(real_cameras=torch.from_numpy(np.stack([camera_label(orbit_camera(1.4, 1.2))] * 4)).float())
        torch.manual_seed(0)
        losses = PiganStep(recipe)(trainer, far)
        seen.append((rendered[0], losses["pose"]))
    (dataset_cameras, pose_with_reals), (drawn, pose_fakes_only) = seen
    assert torch.equal(dataset_cameras, batch.cameras) and not torch.allclose(drawn, batch.cameras)
    # the reals' cameras were moved far off: they count in the pose error only without the prior
    assert pose_with_reals > 1.0 > pose_fakes_only


def setup(tmp_path, steps: int, recipe: PiganRecipe = RECIPE):
    torch.manual_seed(0)
    generator, discriminator = GENERATOR.build(), DISCRIMINATOR.build()
    settings = TrainSettings(steps, CURRICULUM[-1].batch, 2, 0, "pigan", batch_phases=recipe.batch_phases)
    trainer = Trainer({"generator": generator, "discriminator": discriminator},
                      pigan_optimizers(generator, discriminator, recipe), settings,
                      averages={"generator": recipe.ema_half_life})
    return trainer, GanSamples(FaceSet(tmp_path / "data", 16), GENERATOR.mapping.z_dim, 0)


def all_weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    modules = {**trainer.modules, "ema": trainer.trained("generator")}
    return {f"{name}.{key}": value for name, module in modules.items() for key, value in module.state_dict().items()}


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("recipe", [RECIPE, dataclasses.replace(RECIPE, camera_prior=(0.3, 0.155))],
                         ids=["dataset-cameras", "camera-prior"])
def test_a_run_interrupted_during_a_fade_in_resumes_to_the_weights_of_a_whole_one(tmp_path, recipe):
    write_dataset(tmp_path / "data")
    seen = []

    def watched(trainer, batch):
        losses = PiganStep(recipe)(trainer, batch)
        seen.append((trainer.step, batch.real.shape[0], losses["alpha"]))
        return losses

    clean, data = setup(tmp_path, steps=7, recipe=recipe)
    before = {k: v.clone() for k, v in all_weights(clean).items()}
    clean.fit(data, watched, tmp_path / "clean", "tag")
    assert [(step, size) for step, size, _ in seen] == [(0, 4), (1, 4), (2, 4), (3, 2), (4, 2), (5, 2), (6, 2)]
    assert [alpha for *_, alpha in seen] == [1.0, 1.0, 1.0, 0.0, 0.25, 0.5, 0.75]
    after = all_weights(clean)
    for prefix in ("generator.", "discriminator.", "ema."):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix)), prefix

    def stop_in_the_fade(trainer, batch):
        if trainer.step == 5:
            raise Interrupt
        return PiganStep(recipe)(trainer, batch)

    interrupted, data = setup(tmp_path, steps=7, recipe=recipe)
    with pytest.raises(Interrupt):
        interrupted.fit(data, stop_in_the_fade, tmp_path / "work", "tag")
    assert checkpoint.load(tmp_path / "work" / STATE_FILE)["step"] == 4  # a checkpoint every 2 steps: mid-fade
    resumed, data = setup(tmp_path, steps=7, recipe=recipe)
    assert resumed.fit(data, PiganStep(recipe), tmp_path / "work", "tag") == 4
    parts = all_weights(resumed)
    for key, value in after.items():
        assert torch.equal(value, parts[key]), key
