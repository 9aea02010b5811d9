"""The relighting nets train (losses fall), resume exactly, and the chain undoes the light scale."""

from functools import partial

import numpy as np
import pytest
import torch

from pipeline.light.pairs import view_light_maps
from pipeline.models.relighting import AlbedoNet, GeometryNet, NetConfig, NeuralRenderer, RendererConfig, ShadingNet, SpecularNet
from pipeline.nn.critic import CriticConfig, PatchCritic
from pipeline.relighting.chain import RelightingChain
from pipeline.relighting.data import load_samples
from pipeline.relighting.evaluation import sh_relight
from pipeline.relighting.training import BatchShape, ShadingWeights, geometry_step, shading_step
from pipeline.training import LoopSettings, STATE_FILE, fit
from pipeline.models import checkpoint

SMALL = NetConfig(widths=(8, 16), bottleneck=16, norm=True)


@pytest.fixture(scope="module")
def samples(relit_dataset):
    return load_samples(relit_dataset["relight"], relit_dataset["lightstage"], relit_dataset["lightmaps"], "train")[0]


def geometry_run(samples, work, steps, stop_at=None):
    torch.manual_seed(0)
    net = GeometryNet(SMALL)
    step = partial(geometry_step, samples=samples, shape=BatchShape(4, 16), l1=1.0, angular=1.0)

    def stopping(loop):
        if loop.step == stop_at:
            raise KeyboardInterrupt
        return step(loop)

    loop, resumed = fit({"geometry": net}, stopping, LoopSettings(steps, 3e-3, 5, 0, "geometry"), work, {"p": 1}, {"d": "x"})
    return net, loop, resumed


def test_geometry_loss_falls(samples, tmp_path):
    _, loop, _ = geometry_run(samples, tmp_path, 60)
    totals = [losses["total"] for _, losses in loop.history]
    assert np.mean(totals[-10:]) < 0.6 * np.mean(totals[:5])


def test_interrupted_training_resumes_to_the_same_weights(samples, tmp_path):
    clean, _, _ = geometry_run(samples, tmp_path / "clean", 12)
    with pytest.raises(KeyboardInterrupt):
        geometry_run(samples, tmp_path / "work", 12, stop_at=7)
    assert checkpoint.load(tmp_path / "work" / STATE_FILE)["step"] == 5
    resumed, loop, resumed_from = geometry_run(samples, tmp_path / "work", 12)
    assert resumed_from == 5 and [s for s, _ in loop.history] == list(range(1, 13))
    for a, b in zip(clean.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_shading_with_critic_trains(samples, tmp_path):
    torch.manual_seed(0)
    net = ShadingNet(SpecularNet(NetConfig((4, 8), 8)), NeuralRenderer(RendererConfig((8, 16), 16, True, "residual")))
    modules = {"shading": net, "critic": PatchCritic(CriticConfig(in_channels=3, widths=(8, 16)))}
    step = partial(shading_step, samples=samples, shape=BatchShape(4, 16), weights=ShadingWeights(1.0, 1.0, 0.5, 0.01))
    loop, _ = fit(modules, step, LoopSettings(40, 3e-3, 20, 0, "shading"), tmp_path, {}, {}, critics=("critic",))
    first, last = loop.history[0][1], loop.history[-1][1]
    assert {"l1", "specular", "gradient", "critic", "adversarial", "total"} <= set(first)
    assert np.mean([h["l1"] for _, h in loop.history[-8:]]) < first["l1"]


def test_chain_undoes_the_light_scale(samples):
    """A residual renderer whose U-Net outputs zero relights as albedo x diffuse light map, in absolute
    radiance, at any image size (padding)."""
    torch.manual_seed(0)
    renderer = NeuralRenderer(RendererConfig((4, 8), 8, False, "residual"))
    torch.nn.init.zeros_(renderer.unet.head.weight)
    torch.nn.init.zeros_(renderer.unet.head.bias)
    chain = RelightingChain(GeometryNet(SMALL), AlbedoNet(SMALL), ShadingNet(SpecularNet(NetConfig((4, 8), 8)), renderer))
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
