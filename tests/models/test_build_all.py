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
    widths = tuple(params.section("train_matting").widths)
    model = MattingNet(MattingConfig(widths=widths))
    side = 2 * model.divisor
    out = model(torch.rand(1, 3, side, side), torch.rand(1, 3, side, side))
    assert out.alpha.shape == (1, 1, side, side) and out.foreground.shape == (1, 3, side, side)
    assert out.trimap_logits.shape == (1, 3, side, side)
    assert 0 <= float(out.alpha.min()) and float(out.alpha.max()) <= 1
    if params.base.profile == "paper":  # the published widths
        assert [block[0].out_channels for block in model.encoder.levels] == [32, 64, 128, 256, 512]
        assert [block[0].out_channels for block in model.alpha_decoder.blocks] == [256, 128, 64, 32]
