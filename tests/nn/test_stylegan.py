import pytest
import torch
from torch.nn import functional as F

from pipeline.nn.stylegan import MappingNetwork, modulated_conv2d, SynthesisNetwork


def test_modulated_convolution_is_a_per_sample_convolution_with_demodulated_weights():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 7, 7, generator=generator, dtype=torch.float64)
    weight = torch.randn(4, 5, 3, 3, generator=generator, dtype=torch.float64)
    styles = torch.rand(3, 5, generator=generator, dtype=torch.float64) + 0.5
    out = modulated_conv2d(x, weight, styles, demodulate=True, padding=1)
    for b in range(3):
        w = weight * styles[b][None, :, None, None]
        w = w / w.square().sum(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt()
        torch.testing.assert_close(out[b:b + 1], F.conv2d(x[b:b + 1], w, padding=1))
    plain = modulated_conv2d(x, weight, styles, demodulate=False, padding=1)
    torch.testing.assert_close(plain[1:2], F.conv2d(x[1:2], weight * styles[1][None, :, None, None], padding=1))


def test_demodulation_keeps_unit_variance():
    torch.manual_seed(1)
    x = torch.randn(4, 64, 32, 32)
    out = modulated_conv2d(x, torch.randn(48, 64, 3, 3), torch.rand(4, 64) * 3 + 0.1, demodulate=True, padding=1)
    assert abs(float(out[..., 1:-1, 1:-1].var()) - 1.0) < 0.05


def test_mapping_network_conditions_on_the_camera_and_truncates_towards_the_mean():
    torch.manual_seed(2)
    mapping = MappingNetwork(z_dim=16, c_dim=25, w_dim=32, num_ws=5)
    z, c = torch.randn(6, 16), torch.randn(6, 25)
    ws = mapping(z, c)
    assert ws.shape == (6, 5, 32) and torch.equal(ws[:, 0], ws[:, 4])
    assert not torch.allclose(mapping(z, torch.randn(6, 25)), ws)  # the camera changes w
    mapping.track_mean(ws, beta=0.0)
    torch.testing.assert_close(mapping.w_avg, ws[:, 0].mean(dim=0))
    torch.testing.assert_close(mapping(z, c, truncation=0.0), mapping.w_avg.expand(6, 5, 32))


def test_synthesis_network_makes_images_and_passes_gradients():
    torch.manual_seed(3)
    synthesis = SynthesisNetwork(w_dim=32, resolution=16, image_channels=6, channel_base=256, channel_max=32)
    mapping = MappingNetwork(z_dim=16, c_dim=0, w_dim=32, num_ws=synthesis.num_ws)
    assert synthesis.num_ws == 2 + 3 * 2  # 4, 8, 16 px
    image = synthesis(mapping(torch.randn(2, 16)))
    assert image.shape == (2, 6, 16, 16) and torch.isfinite(image).all()
    image.square().mean().backward()
    assert synthesis.const.grad.abs().sum() > 0
    assert all(p.grad is not None for p in mapping.parameters())
    ws = mapping(torch.randn(2, 16))
    torch.testing.assert_close(synthesis(ws, use_noise=False), synthesis(ws, use_noise=False))


def test_a_resolution_that_is_not_a_power_of_two_is_refused():
    with pytest.raises(ValueError, match="power of two"):
        SynthesisNetwork(w_dim=8, resolution=24, image_channels=3)


def test_the_discriminator_scores_each_image_and_projects_the_condition():
    from pipeline.nn.stylegan import Discriminator

    torch.manual_seed(4)
    d = Discriminator(16, 6, c_dim=25, channel_base=256, channel_max=32)
    x, c = torch.randn(4, 6, 16, 16), torch.randn(4, 25)
    scores = d(x, c)
    assert scores.shape == (4, 1) and torch.isfinite(scores).all()
    assert not torch.allclose(d(x, torch.randn(4, 25)), scores)  # the condition matters
    scores.sum().backward()
    assert d.from_rgb.weight.grad.abs().sum() > 0 and d.mapping.embed.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="power of two"):
        Discriminator(12, 3)
