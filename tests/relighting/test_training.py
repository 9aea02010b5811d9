"""The relighting nets train on the engine (losses fall), on predicted intrinsics, and the chain undoes the light scale."""

from functools import partial

import numpy as np
import pytest
import torch

from pipeline.light.pairs import view_light_maps
from pipeline.models.relighting import (AlbedoConfig, GeometryConfig, NeuralRenderer, RendererConfig, ShadingConfig, ShadingNet,
                                        SpecularConfig, SpecularNet)
from pipeline.nn.critic import CriticConfig
from pipeline.relighting.chain import RelightingChain
from pipeline.relighting.data import load_sample, load_samples, sample_refs
from pipeline.relighting.evaluation import sh_relight
from pipeline.relighting.training import (GEOMETRY_FIELDS, SHADING_FIELDS, ShadingWeights, fit_net, geometry_step, shading_step,
                                          write_intrinsics)
from pipeline.training import Trainer, TrainSettings, adam

SMALL = ((8, 16), 16, True)  # widths, bottleneck, norm


@pytest.fixture(scope="module")
def refs(relit_dataset):
    return sample_refs(relit_dataset["relight"], relit_dataset["lightstage"], relit_dataset["lightmaps"], "train")


@pytest.fixture(scope="module")
def samples(relit_dataset):
    return load_samples(relit_dataset["relight"], relit_dataset["lightstage"], relit_dataset["lightmaps"], "train")[0]


def trainer_for(modules, steps, batch=4, critic=None):
    optimizers = {name: adam(m, 3e-3, (0.5, 0.9) if name == critic else (0.9, 0.999)) for name, m in modules.items()}
    return Trainer(modules, optimizers, TrainSettings(steps, batch, 20, 0, "test"))


def test_geometry_loss_falls(refs, tmp_path):
    torch.manual_seed(0)
    net = GeometryConfig(*SMALL).build()
    run = fit_net(trainer_for({"geometry": net}, 120), partial(geometry_step, l1=1.0, angular=1.0), GEOMETRY_FIELDS, refs,
                  16, 0, tmp_path, "tag", None)
    totals = run.curve["total"].to_numpy()
    assert np.mean(totals[-10:]) < 0.7 * np.mean(totals[:5])  # 0.53 measured


def test_the_saved_net_is_the_weight_average(refs, tmp_path):
    """With ``ema_half_life`` > 0 a relighting stage's trainer averages its net's weights after
    every step (the averaging redone here by hand) and it saves the average, not the last
    weights; with 0 the net."""
    torch.manual_seed(0)
    net = GeometryConfig(*SMALL).build()
    start = [p.detach().clone() for p in net.parameters()]
    trainer = Trainer({"geometry": net}, {"geometry": adam(net, 3e-3)}, TrainSettings(6, 4, 20, 0, "test"),
                      averages={"geometry": 2.0})
    after_steps = []

    def step(trainer, batch):
        losses = geometry_step(trainer, batch, l1=1.0, angular=1.0)
        after_steps.append([p.detach().clone() for p in trainer.modules["geometry"].parameters()])
        return losses

    fit_net(trainer, step, GEOMETRY_FIELDS, refs, 16, 0, tmp_path, "tag", None)
    expected, keep = start, 0.5 ** (1 / 2.0)
    for weights in after_steps:
        expected = [torch.lerp(a, w, 1 - keep) for a, w in zip(expected, weights)]
    saved = list(trainer.trained("geometry").parameters())
    for average, manual, last in zip(saved, expected, net.parameters()):
        torch.testing.assert_close(average, manual)
    assert max(float((a - b).detach().abs().max()) for a, b in zip(saved, net.parameters())) > 1e-3  # not the last weights
    plain = GeometryConfig(*SMALL).build()
    unaveraged = Trainer({"geometry": plain}, {"geometry": adam(plain, 3e-3)}, TrainSettings(1, 4, 1, 0, "t"),
                         averages={"geometry": 0.0})
    assert unaveraged.averages == {} and unaveraged.trained("geometry") is plain


def test_predicted_intrinsics_are_what_the_net_predicts(refs, tmp_path):
    torch.manual_seed(0)
    chain = RelightingChain(GeometryConfig(*SMALL).build())
    folder = write_intrinsics(refs, chain, tmp_path, light_maps=False)
    sample = load_sample(refs[1], intrinsics=folder, index=1)
    np.testing.assert_allclose(sample.normals, chain.predict_normals(load_sample(refs[1]).image), atol=2e-3)  # float16 files
    np.testing.assert_array_equal(sample.albedo, np.float16(load_sample(refs[1]).albedo).astype(np.float32))


def test_shading_with_critic_trains(refs, tmp_path):
    torch.manual_seed(0)
    net = ShadingConfig(SpecularConfig((4, 8), 8), RendererConfig((8, 16), 16, True, "residual")).build()
    modules = {"shading": net, "critic": CriticConfig(in_channels=3, widths=(8, 16)).build()}
    step = partial(shading_step, weights=ShadingWeights(1.0, 1.0, 0.5, 0.01))
    run = fit_net(trainer_for(modules, 40, critic="critic"), step, SHADING_FIELDS, refs, 16, 0, tmp_path, "tag", None)
    assert {"l1", "specular", "gradient", "critic", "adversarial", "total"} <= set(run.curve.columns)
    assert run.curve["l1"].tail(8).mean() < run.curve["l1"].iloc[0]


def test_chain_undoes_the_light_scale(samples):
    """A residual renderer whose U-Net outputs zero relights as albedo x diffuse light map, in absolute
    radiance, at any image size (padding)."""
    torch.manual_seed(0)
    renderer = NeuralRenderer(RendererConfig((4, 8), 8, False, "residual"))
    torch.nn.init.zeros_(renderer.unet.head.weight)
    torch.nn.init.zeros_(renderer.unet.head.bias)
    chain = RelightingChain(GeometryConfig(*SMALL).build(), AlbedoConfig(*SMALL).build(),
                            ShadingNet(SpecularNet(SpecularConfig((4, 8), 8)), renderer))
    s = samples[0]
    window = (slice(1, 22), slice(2, 19))  # 21 x 17: not a multiple of the nets' divisor
    image, alpha = s.image[window], s.alpha[window]
    camera = s.camera  # the crop keeps the camera's rays only approximately; the identity below does not need them
    normals = chain.predict_normals(image)
    albedo = chain.predict_albedo(image, normals)
    out = chain.shade(image, alpha, normals, albedo, camera, s.environment)
    diffuse, _ = view_light_maps(normals, alpha, camera, s.environment)
    assert out.relit.shape == (21, 17, 3)
    np.testing.assert_allclose(out.relit, albedo * diffuse * alpha[..., None], rtol=1e-4, atol=1e-6)


def test_sh_baseline_under_a_constant_map(samples):
    """Under a constant environment c, Lambertian SH relighting is albedo x c wherever the normals point."""
    from pipeline.light.pairs import Environment

    s = samples[0]
    constant = Environment(env=np.full((16, 32, 3), 2.0), diffuse=np.full((8, 16, 3), 2.0), phong=np.full((4, 8, 16, 3), 2.0))
    relit = sh_relight(s.albedo, s.normals, s.alpha, s.camera, constant)
    np.testing.assert_allclose(relit, 2.0 * s.albedo * s.alpha[..., None], rtol=2e-3, atol=1e-6)
