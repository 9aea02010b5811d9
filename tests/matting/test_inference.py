"""The network's matte at inference: mirror averaging."""

import numpy as np
import torch

from pipeline.matting.inference import predict
from pipeline.models.matting import MattingConfig, MattingNet
from tests.matting.test_training import toy_samples


def test_the_mirror_averaged_matte_of_a_mirrored_image_is_the_mirrored_matte():
    torch.manual_seed(0)
    model = MattingNet(MattingConfig(widths=(8, 16, 32))).eval()
    sample = toy_samples(count=1, size=32)[0]
    image, trimap = sample.image, sample.coarse_trimap
    mirrored = predict(model, np.ascontiguousarray(image[:, ::-1]), np.ascontiguousarray(trimap[:, ::-1]), clamp_known=False)
    averaged = predict(model, image, trimap, clamp_known=False)
    np.testing.assert_allclose(mirrored.alpha[:, ::-1], averaged.alpha, atol=1e-6)
    np.testing.assert_allclose(mirrored.foreground[:, ::-1], averaged.foreground, atol=1e-6)
    # a single pass is not mirror-symmetric (the network is not), so the average is a different matte
    single = predict(model, image, trimap, clamp_known=False, mirror=False)
    single_mirrored = predict(model, np.ascontiguousarray(image[:, ::-1]), np.ascontiguousarray(trimap[:, ::-1]),
                              clamp_known=False, mirror=False)
    assert np.abs(single_mirrored.alpha[:, ::-1] - single.alpha).max() > 1e-3
    np.testing.assert_allclose(averaged.alpha, (single.alpha + single_mirrored.alpha[:, ::-1]) / 2, atol=1e-6)
