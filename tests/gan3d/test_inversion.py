"""Inversion of both generators through the one interface (``pipeline.gan3d.inversion``)."""

import pytest
import torch

from pipeline.gan3d.inversion import invert, psnr
from tests.gan3d.test_pigan import cameras, SMALL as SMALL_PIGAN
from tests.models.test_eg3d import SMALL as SMALL_EG3D


def test_psnr_of_a_known_error():
    target = torch.zeros(2, 3, 4, 4)
    pictures = target.clone()
    pictures[1] += 0.2  # 0.1 on [0, 1]: 20 dB
    assert psnr(pictures, target)[1].item() == pytest.approx(20.0, abs=1e-4)
    assert psnr(pictures, target)[0].item() > 100


@pytest.mark.parametrize("config", [SMALL_EG3D, SMALL_PIGAN], ids=["eg3d", "pigan"])
def test_a_fit_from_the_mean_latent_matches_its_view_and_moves_the_others_towards_the_truth(config):
    """A picture the generator makes from a latent away from the mean: fitted from the mean with the
    weights frozen, the fitted view's error falls, and so does the error of a view the fit never saw."""
    torch.manual_seed(0)
    net = config.build().eval()
    start = net.mean_latent()
    draws = torch.Generator().manual_seed(1)
    truth = tuple(t + torch.randn(t.shape, generator=draws) * (t.std() + 1.0) for t in start)
    views = cameras((0.0, 0.5))
    side = 16
    with torch.no_grad():
        targets = net.render_latent(truth, views, side)
        before = psnr(net.render_latent(start, views, side), targets)
    weights = [p.detach().clone() for p in net.parameters()]
    fit = invert(net, targets[:1], views[:1], steps=60, rate=0.05)
    with torch.no_grad():
        after = psnr(net.render_latent(fit.latent, views, side), targets)
    assert after[0] > before[0] + 3, (before, after)  # the view it was fitted to
    assert after[1] > before[1], (before, after)  # a novel view
    assert fit.losses[-1] < fit.losses[0]
    assert all(torch.equal(a, b) for a, b in zip(weights, net.parameters()))
    assert all(p.requires_grad for p in net.parameters())
