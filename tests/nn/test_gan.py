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
