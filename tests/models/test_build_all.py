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
