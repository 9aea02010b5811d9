"""Blur-pool against a loop, and the U-Net's shapes and published layer count."""

import numpy as np
import torch

from pipeline.nn.unet import BlurPool, UNet, UNetConfig


def blur_pool_reference(image: np.ndarray) -> np.ndarray:
    """[1 2 1] x [1 2 1] / 16 at every second pixel, edges replicated: (H, W) -> (ceil(H/2), ceil(W/2))."""
    taps = np.array([1.0, 2.0, 1.0])
    kernel = np.outer(taps, taps) / 16
    padded = np.pad(image, 1, mode="edge")
    out = np.zeros(((image.shape[0] + 1) // 2, (image.shape[1] + 1) // 2))
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            out[y, x] = (padded[2 * y:2 * y + 3, 2 * x:2 * x + 3] * kernel).sum()
    return out


def test_blur_pool_matches_a_loop():
    image = np.random.default_rng(0).normal(size=(2, 9, 12))
    out = BlurPool(2)(torch.from_numpy(image).float()[None])[0].numpy()
    for channel in range(2):
        np.testing.assert_allclose(out[channel], blur_pool_reference(image[channel]), atol=1e-5)


def test_blur_pool_keeps_a_constant_and_removes_the_nyquist_stripe():
    constant = torch.full((1, 1, 8, 8), 3.0)
    assert torch.allclose(BlurPool(1)(constant), constant[..., ::2, ::2])
    stripes = torch.tensor([1.0, -1.0] * 4).repeat(8, 1)[None, None]  # plain striding would alias this to a constant 1
    assert float(BlurPool(1)(stripes)[..., :, 1:-1].abs().max()) < 1e-6


def test_unet_shapes_and_published_layer_count():
    config = UNetConfig(widths=(32, 64, 128, 256, 512, 512), bottleneck=512)
    net = UNet(3, 3, config)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) == 13  # 6 encoder, 1 bottleneck, 6 decoder
    assert [c.out_channels for c in convs] == [32, 64, 128, 256, 512, 512, 512, 512, 512, 256, 128, 64, 32]
    small = UNet(5, 2, UNetConfig(widths=(4, 8), bottleneck=8))
    assert small(torch.rand(2, 5, 12, 16)).shape == (2, 2, 12, 16)
