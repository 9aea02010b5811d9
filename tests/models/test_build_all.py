"""Every model of every profile builds as its stage builds it (``cfg.model.build()``) and runs a
forward pass with the right shapes; the paper's at the smallest input they take, to stay cheap."""

import pytest
import torch

from pipeline.config import PROFILES, load_params
from pipeline.models.checkpoint import config_from_data, config_to_data
from tests.conftest import ROOT


@pytest.fixture(scope="module", params=PROFILES)
def params(request):
    return load_params(ROOT / "params.yaml", profile=request.param)


def build(params, section: str) -> torch.nn.Module:
    """Section ``section``'s model, exactly as its training stage builds it."""
    torch.manual_seed(0)
    model = params.section(section).model.build()
    config = model.config
    assert config_from_data(type(config), config_to_data(config)) == config  # what the model file holds loads back
    return model


def parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def side(params, divisor: int) -> int:
    """The input side for a forward pass: the smallest the model takes for the paper's nets."""
    return divisor if params.base.profile == "paper" else 2 * divisor


def conv_widths(net: torch.nn.Module) -> list[int]:
    return [m.out_channels for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]


def test_matting_net(params):
    model = build(params, "train_matting")
    n = side(params, model.divisor)
    guidance = torch.rand(1, model.config.in_channels - 6, n, n)
    with torch.no_grad():
        out = model(torch.rand(1, 3, n, n), torch.rand(1, 3, n, n), guidance)
    assert out.alpha.shape == (1, 1, n, n) and out.foreground.shape == (1, 3, n, n)
    assert out.trimap_logits.shape == (1, 3, n, n)
    assert 0 <= float(out.alpha.min()) and float(out.alpha.max()) <= 1
    assert params.section("train_matting").crop % model.divisor == 0
    if params.base.profile == "paper":  # the published widths
        assert [block[0].out_channels for block in model.encoder.levels] == [32, 64, 128, 256, 512]
        assert [block[0].out_channels for block in model.alpha_decoder.blocks] == [256, 128, 64, 32]
        default = load_params(ROOT / "params.yaml", profile="default").section("train_matting").model.build()
        assert parameters(model) > parameters(default)


def test_guidance_channel_counts_agree():
    from pipeline.matting.guidance import CHANNELS
    from pipeline.models.matting import GUIDANCE_CHANNELS

    assert GUIDANCE_CHANNELS == CHANNELS


def test_relighting_nets(params):
    from pipeline.models.relighting import LIGHT_MAPS

    geometry, albedo, shading = (build(params, f"train_{n}") for n in ("geometry", "albedo", "shading"))
    n = side(params, max(geometry.config.divisor, albedo.config.divisor, shading.divisor))
    image = torch.rand(1, 3, n, n)
    with torch.no_grad():
        normals = geometry(image)
        reflectance = albedo(image, normals)
        out = shading(image, reflectance, torch.rand(1, 3, n, n), torch.rand(1, LIGHT_MAPS, 3, n, n))
    assert normals.shape == (1, 3, n, n)
    assert torch.allclose(normals.norm(dim=1), torch.ones(1, n, n), atol=1e-4)
    assert reflectance.shape == (1, 3, n, n) and 0 <= float(reflectance.min()) and float(reflectance.max()) <= 1
    assert out.relit.shape == (1, 3, n, n) and out.specular_hat.shape == (1, 3, n, n)
    assert torch.allclose(out.weights.sum(dim=1), torch.ones(1, n, n), atol=1e-5)
    for name, net in (("geometry", geometry), ("albedo", albedo), ("shading", shading)):
        assert params.section(f"train_{name}").crop % net.config.divisor == 0
        assert parameters(net) > 0
    if params.base.profile == "paper":  # the published widths: 13 layers each
        published = [32, 64, 128, 256, 512, 512, 512, 512, 512, 256, 128, 64, 32]
        assert conv_widths(geometry) == conv_widths(albedo) == conv_widths(shading.renderer) == published
        assert conv_widths(shading.specular) == [8, 16, 32, 64, 128, 256, 256, 256, 128, 64, 32, 16, 8]
        assert shading.renderer.config.output == "direct"


def test_eg3d(params):
    from pipeline.camera.eg3d import camera_label, orbit_camera
    from pipeline.models.eg3d import DualDiscriminator, EG3DGenerator

    section = params.section("train_eg3d")
    generator, discriminator = build(params, "train_eg3d"), section.discriminator.build()
    assert isinstance(generator, EG3DGenerator) and isinstance(discriminator, DualDiscriminator)
    config = generator.config
    # the paper's nets render only 8 rays per side here (the super-resolution still makes 512 px)
    rays = 8 if params.base.profile == "paper" else config.neural_resolution
    cameras = torch.from_numpy(camera_label(orbit_camera(0.0, 0.0))[None]).float()  # frontal
    with torch.no_grad():
        out = generator.synthesis(generator.mapping(torch.randn(1, config.z_dim), cameras), cameras, neural_resolution=rays)
        scores = discriminator(out.image, out.raw, cameras)
    assert out.image.shape == (1, 3, config.output_resolution, config.output_resolution)
    assert out.raw.shape == (1, 3, rays, rays) and out.depth.shape == (1, 1, rays, rays)
    assert torch.isfinite(out.image).all() and scores.shape == (1, 1)
    if params.base.profile == "paper":  # the published sizes: 512 px from 128 rays, 32-channel planes of 256
        assert (config.output_resolution, config.neural_resolution, config.plane_resolution) == (512, 128, 256)
        assert (config.triplane.channels, config.triplane.hidden, config.volume.coarse_samples) == (32, 64, 48)
        assert section.batch == 32 and section.recipe.r1_gamma == 1.0
        assert 25e6 < parameters(generator) < 35e6


def test_pigan(params):
    from pipeline.gan3d.pigan import PiganGenerator
    from pipeline.gan3d.pigan_discriminator import PiganDiscriminator
    from pipeline.gan3d.sample import cameras

    section = params.section("train_pigan")
    generator, discriminator = build(params, "train_pigan"), section.discriminator.build()
    assert isinstance(generator, PiganGenerator) and isinstance(discriminator, PiganDiscriminator)
    first = section.recipe.curriculum[0]
    rays = 8 if params.base.profile == "paper" else first.resolution  # the paper's SIREN renders 8 rays per side here
    with torch.no_grad():
        out = generator(torch.randn(1, generator.z_dim), cameras([0.0]), rays)
        judged = discriminator(torch.zeros(1, 3, first.resolution, first.resolution))
    assert out.image.shape == (1, 3, rays, rays) and torch.isfinite(out.image).all() and judged.logit.shape == (1,)
    mapping, field = section.model.mapping, section.model.field
    modulations = (field.layers + 1) * field.width * 2  # frequencies and phase shifts of every FiLM layer and the colour layer
    assert generator.mapping.out.out_features == modulations
    if params.base.profile == "paper":  # the public release's CelebA recipe
        assert (mapping.z_dim, field.layers, field.width, modulations) == (256, 8, 256, 4608)
        assert (first.resolution, first.batch, first.generator_rate, first.discriminator_rate) == (64, 56, 6e-5, 2e-4)
        assert section.recipe.r1_gamma == 0.2 and section.recipe.r1_every == 1
        siren = 3 * 256 + 256 + 7 * (256 * 256 + 256) + 257 + (259 * 256 + 256) + 256 * 3 + 3  # FiLM layers, heads
        mapper = 256 * 256 + 256 + 2 * (256 * 256 + 256) + 256 * 4608 + 4608
        assert parameters(generator) == siren + mapper
