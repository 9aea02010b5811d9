"""pi-GAN's progressive discriminator: every resolution, the fade-in, the coordinate channels."""

import pytest
import torch
from torch.nn import functional as F

from pipeline.gan3d.pigan_discriminator import CoordConv, PiganDiscriminatorConfig

SMALL = PiganDiscriminatorConfig(max_resolution=32, channel_base=256, channel_max=32)


def test_every_resolution_gives_a_logit_and_a_pose():
    torch.manual_seed(0)
    disc = SMALL.build()
    assert SMALL.resolutions == (32, 16, 8)
    for side in SMALL.resolutions:
        judged = disc(torch.rand(3, 3, side, side))
        assert judged.logit.shape == (3,) and judged.pose.shape == (3, 2)
    assert PiganDiscriminatorConfig(max_resolution=16, pose_head=False).build()(torch.rand(2, 3, 16, 16)).pose is None
    with pytest.raises(ValueError, match=r"side among \(32, 16, 8\), got \(24, 24\)"):
        disc(torch.rand(1, 3, 24, 24))
    with pytest.raises(ValueError, match="power of two"):
        PiganDiscriminatorConfig(max_resolution=48).resolutions


def test_fade_in_starts_at_the_smaller_discriminator_and_ends_at_the_new_block():
    """alpha 0: the picture judged exactly as its 2x2 average at half the side; alpha 1: the new
    block alone; between: a mix of the two paths' features, so the judgement changes smoothly."""
    torch.manual_seed(0)
    disc = SMALL.build()
    image = torch.rand(4, 3, 32, 32)
    half = disc(F.avg_pool2d(image, 2)).logit
    torch.testing.assert_close(disc(image, alpha=0.0).logit, half)
    full = disc(image, alpha=1.0).logit
    assert (full - half).abs().max() > 1e-3  # the new block changes the judgement
    step = (disc(image, alpha=0.51).logit - disc(image, alpha=0.5).logit).abs().max()
    assert step < 0.05 * (full - half).abs().max()  # a hundredth of the fade moves the judgement little


def test_coordinate_channels_tell_positions_apart():
    """On a constant picture a plain convolution's interior output is constant; CoordConv's is not."""
    torch.manual_seed(0)
    layer = CoordConv(3, 4)
    out = layer(torch.ones(1, 3, 8, 8))[..., 1:-1, 1:-1]
    assert out.std(dim=(-2, -1)).min() > 1e-3
    plain = torch.nn.Conv2d(3, 4, 3, padding=1)(torch.ones(1, 3, 8, 8))[..., 1:-1, 1:-1]
    assert plain.std(dim=(-2, -1)).max() < 1e-6


def test_gradients_reach_the_picture_and_every_block_in_use():
    torch.manual_seed(0)
    disc = SMALL.build()
    image = torch.rand(2, 3, 16, 16, requires_grad=True)
    judged = disc(image, alpha=0.5)
    (judged.logit.sum() + judged.pose.sum()).backward()
    assert image.grad.abs().sum() > 0
    used = ["from_rgb.16", "from_rgb.8", "blocks.16", "blocks.8", "head"]
    for name, parameter in disc.named_parameters():
        if any(name.startswith(u) for u in used):
            assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
        else:  # the 32 px block and adapter are not in play at 16 px
            assert parameter.grad is None, name
