"""Every model of every profile builds and runs a forward pass with the right shapes."""

import pytest
import torch

from pipeline.config import PROFILES
from pipeline.models.matting import MattingConfig, MattingNet
from tests.conftest import ROOT, set_params


@pytest.fixture(params=PROFILES)
def params(request, tmp_path):
    from pipeline.config import load_params

    path = tmp_path / "params.yaml"
    path.write_text((ROOT / "params.yaml").read_text())
    set_params(path, ("base", "profile"), request.param)
    return load_params(path)


def test_matting_net(params):
    cfg = params.section("train_matting")
    model = MattingNet(MattingConfig(widths=tuple(cfg.widths), guidance=cfg.guidance, norm=cfg.norm))
    side = 2 * model.divisor
    guidance = torch.rand(1, model.config.in_channels - 6, side, side)
    out = model(torch.rand(1, 3, side, side), torch.rand(1, 3, side, side), guidance)
    assert out.alpha.shape == (1, 1, side, side) and out.foreground.shape == (1, 3, side, side)
    assert out.trimap_logits.shape == (1, 3, side, side)
    assert 0 <= float(out.alpha.min()) and float(out.alpha.max()) <= 1
    if params.base.profile == "paper":  # the published widths
        assert [block[0].out_channels for block in model.encoder.levels] == [32, 64, 128, 256, 512]
        assert [block[0].out_channels for block in model.alpha_decoder.blocks] == [256, 128, 64, 32]


def test_guidance_channel_counts_agree():
    from pipeline.matting.guidance import CHANNELS
    from pipeline.models.matting import GUIDANCE_CHANNELS

    assert GUIDANCE_CHANNELS == CHANNELS


def test_relighting_nets(params):
    from pipeline.models.relighting import (LIGHT_MAPS, AlbedoNet, GeometryNet, NetConfig, NeuralRenderer, RendererConfig,
                                            ShadingNet, SpecularNet)

    geometry_cfg, albedo_cfg, shading_cfg = (params.section(f"train_{n}") for n in ("geometry", "albedo", "shading"))
    geometry = GeometryNet(NetConfig(tuple(geometry_cfg.widths), geometry_cfg.bottleneck, geometry_cfg.norm))
    albedo = AlbedoNet(NetConfig(tuple(albedo_cfg.widths), albedo_cfg.bottleneck, albedo_cfg.norm))
    shading = ShadingNet(
        SpecularNet(NetConfig(tuple(shading_cfg.specular_widths), shading_cfg.specular_bottleneck, shading_cfg.norm)),
        NeuralRenderer(RendererConfig(tuple(shading_cfg.widths), shading_cfg.bottleneck, shading_cfg.norm, shading_cfg.renderer_output)))
    side = max(geometry.config.divisor, albedo.config.divisor, shading.divisor)
    image = torch.rand(1, 3, side, side)
    normals = geometry(image)
    assert normals.shape == (1, 3, side, side)
    assert torch.allclose(normals.norm(dim=1), torch.ones(1, side, side), atol=1e-4)
    reflectance = albedo(image, normals)
    assert reflectance.shape == (1, 3, side, side) and 0 <= float(reflectance.min()) and float(reflectance.max()) <= 1
    out = shading(image, reflectance, torch.rand(1, 3, side, side), torch.rand(1, LIGHT_MAPS, 3, side, side))
    assert out.relit.shape == (1, 3, side, side) and out.specular_hat.shape == (1, 3, side, side)
    assert torch.allclose(out.weights.sum(dim=1), torch.ones(1, side, side), atol=1e-5)
    if params.base.profile == "paper":  # the published widths: 13 layers each
        widths = lambda net: [m.out_channels for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]  # noqa: E731
        assert widths(geometry) == widths(albedo) == widths(shading.renderer) == [32, 64, 128, 256, 512, 512, 512, 512, 512, 256, 128, 64, 32]
        assert widths(shading.specular) == [8, 16, 32, 64, 128, 256, 256, 256, 128, 64, 32, 16, 8]
