"""WGAN-GP's critic loss, with its penalty every step and lazily every k steps."""

import torch

from pipeline.nn.critic import CriticConfig
from pipeline.nn.losses import GRADIENT_PENALTY, critic_loss, critic_scores, gradient_penalty, lazy_penalty_weight


def batch(seed: int) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    critic = CriticConfig(in_channels=3, widths=(8, 16)).build()
    return critic, torch.rand(4, 3, 16, 16), torch.rand(4, 3, 16, 16), torch.rand(4)


def test_the_penalty_is_one_norm_minus_one_squared_on_the_interpolates():
    critic, real, fake, mix = batch(0)
    interpolate = (mix.view(-1, 1, 1, 1) * real + (1 - mix.view(-1, 1, 1, 1)) * fake).requires_grad_(True)
    norms = [torch.autograd.grad(critic_scores(critic, interpolate[i:i + 1]).sum(), interpolate)[0][i].norm()
             for i in range(4)]  # one sample at a time: the sum over the batch separates
    expected = GRADIENT_PENALTY * torch.stack([(n - 1) ** 2 for n in norms]).mean()
    assert torch.allclose(gradient_penalty(critic, real, fake, mix), expected, rtol=1e-5)


def test_a_lazy_step_leaves_the_penalty_out_and_a_due_step_weighs_it_k_times():
    critic, real, fake, mix = batch(1)
    wasserstein = critic_scores(critic, fake).mean() - critic_scores(critic, real).mean()
    penalty = gradient_penalty(critic, real, fake, mix)
    assert lazy_penalty_weight(False, 4) == 0.0 and lazy_penalty_weight(True, 4) == 4 * GRADIENT_PENALTY
    assert lazy_penalty_weight(True, 1) == GRADIENT_PENALTY
    skipped = critic_loss(critic, real, fake, mix, lazy_penalty_weight(False, 4))
    due = critic_loss(critic, real, fake, mix, lazy_penalty_weight(True, 4))
    assert torch.allclose(skipped, wasserstein, atol=1e-7)
    assert torch.allclose(due, wasserstein + 4 * penalty, rtol=1e-5)
    assert penalty > 1e-3  # a penalty that is there to leave out: the check above can fail


def test_a_skipped_penalty_never_scores_the_interpolates():
    """What makes the lazy steps cheaper: without the penalty the critic scores only the real and
    the fake batch, with no interpolate and no gradient of the critic to differentiate again."""
    critic, real, fake, mix = batch(2)
    seen = []
    handle = critic.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].requires_grad))
    critic_loss(critic, real, fake, mix, 0.0).backward()
    skipped = list(seen)
    seen.clear()
    critic_loss(critic, real, fake, mix).backward()
    handle.remove()
    assert skipped == [False, False]
    assert seen == [False, False, True]  # the interpolate needs its gradient: the double backward
