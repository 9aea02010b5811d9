import math

import torch

from pipeline.nn.gan import discriminator_loss, generator_loss, r1_penalty


def test_r1_is_zero_for_a_constant_discriminator_and_the_squared_weight_norm_for_a_linear_one():
    image, raw = torch.randn(3, 2, 4, 4, requires_grad=True), torch.randn(3, 2, 2, 2, requires_grad=True)
    constant = torch.full((3, 1), 0.7, requires_grad=True)
    assert float(r1_penalty(constant * 1.0, [image, raw])) == 0.0
    w_image, w_raw = torch.randn(2 * 4 * 4), torch.randn(2 * 2 * 2)
    linear = (image.flatten(1) @ w_image + raw.flatten(1) @ w_raw)[:, None]
    torch.testing.assert_close(r1_penalty(linear, [image, raw]), w_image.square().sum() + w_raw.square().sum())


def test_logistic_losses_at_an_undecided_discriminator():
    zero = torch.zeros(5, 1)
    assert math.isclose(float(generator_loss(zero)), math.log(2), rel_tol=1e-6)
    assert math.isclose(float(discriminator_loss(zero, zero)), 2 * math.log(2), rel_tol=1e-6)
    assert float(discriminator_loss(torch.full((5, 1), 10.0), torch.full((5, 1), -10.0))) < 1e-3  # a sure discriminator


def test_the_blur_fades_out_and_keeps_the_mean():
    from pipeline.nn.gan import blur_images, fading_blur_sigma

    assert fading_blur_sigma(0, 10.0, 100) == 10.0 and fading_blur_sigma(50, 10.0, 100) == 5.0
    assert fading_blur_sigma(200, 10.0, 100) == 0.0 and fading_blur_sigma(0, 10.0, 0) == 0.0
    images = torch.rand(2, 3, 16, 16)
    assert torch.equal(blur_images(images, 0.2), images)
    blurred = blur_images(images, 2.0)
    assert blurred.shape == images.shape
    constant = torch.full((1, 3, 8, 8), 0.4)
    torch.testing.assert_close(blur_images(constant, 1.5), constant)  # a flat image stays flat
    assert float(blurred[..., 6:10, 6:10].std()) < float(images[..., 6:10, 6:10].std())  # detail goes
    # against a direct 2D convolution by the outer product of the taps, away from the borders
    radius, sigma = 6, 2.0
    taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1.0) / sigma) ** 2)
    kernel = torch.outer(taps, taps) / taps.sum() ** 2
    direct = torch.nn.functional.conv2d(images[:, :1], kernel[None, None])
    torch.testing.assert_close(blurred[:, :1, radius:-radius, radius:-radius], direct)
