"""The exposure of ``lightstage relight``'s composite: one exposure for subject and map, highlights rolled off."""

import numpy as np
import pytest

from pipeline.io.arrays import srgb_to_linear
from pipeline.light.pairs import Environment
from pipeline.light.tonemap import subject_exposure
from pipeline.models.matting import MattingConfig
from pipeline.models.relighting import GeometryConfig
from pipeline.relighting.chain import RelightingChain
from pipeline.relighting.photo import PhotoRelighter, frame_exposure, roll_off

SIZE = 48


def test_the_roll_off_keeps_what_is_below_the_knee_and_never_reaches_white():
    x = np.linspace(0.0, 0.5, 101)
    assert np.array_equal(roll_off(x, 0.5), x.astype(np.float32))
    high = np.array([0.5, 0.5 + 1e-4, 1.0, 2.0, 10.0, 1e3, 1e6])
    y = roll_off(high, 0.5)
    assert (y[1] - y[0]) / 1e-4 == pytest.approx(1.0, abs=1e-3)  # meets the line with slope 1
    assert np.all(np.diff(y) > 0) and y[-1] < 1.0  # monotone; white only at infinite radiance
    # t / (1 + t) worked by hand: x = 2, knee 0.5: t = 3, 0.5 + 0.5 * 3 / 4
    assert y[3] == pytest.approx(0.875, abs=1e-7)


def scene(face: float, background: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grey disc of luminance ``face`` (premultiplied, soft edge) before a grey background of ``background``."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    alpha = np.clip(SIZE / 3 - np.hypot(yy - SIZE / 2, xx - SIZE / 2), 0, 1).astype(np.float32)
    return face * alpha[..., None] * np.ones(3, np.float32), alpha, np.full((SIZE, SIZE, 3), background, np.float32)


def test_the_exposure_is_the_faces_unless_the_background_is_brighter():
    for dim in (0.01, 0.1, 0.2):  # a background no brighter than the face: exposed for the face, as before
        relit, alpha, behind = scene(0.2, dim)
        assert frame_exposure(relit, alpha, behind, 0.25, 0.75) == pytest.approx(subject_exposure(relit, alpha, 0.25))
    relit, alpha, behind = scene(0.2, 0.2 * 16)  # a sky 16 times the face: the exposure falls by 16 ** 0.25 = 2
    assert frame_exposure(relit, alpha, behind, 0.25, 0.75) == pytest.approx(1.25 / 2, rel=1e-5)
    assert frame_exposure(relit, alpha, behind, 0.25, 1.0) == pytest.approx(1.25, rel=1e-5)  # the face alone


def uniform(radiance: float) -> Environment:
    env = np.full((16, 32, 3), radiance, np.float32)
    return Environment(env=env, diffuse=env.copy(), phong=env[None].copy())


@pytest.fixture(scope="module")
def relighter():
    nets = MattingConfig(widths=(4, 8)).build(), RelightingChain(GeometryConfig((4, 8), 8, False).build())
    return PhotoRelighter(*nets, exposure_median=0.25, face_weight=0.75, highlight_knee=0.5)


def test_subject_and_map_share_one_exposure_and_a_bright_map_is_not_white(relighter):
    relit, alpha, _ = scene(0.2, 0.0)
    same = srgb_to_linear(relighter.picture(relit, alpha, uniform(0.2), None, None))
    assert np.allclose(same, same[0, 0], atol=2e-6)  # background as bright as the face: one grey, seam and all
    assert same[0, 0, 0] == pytest.approx(0.25, rel=1e-4)
    bright = relighter.picture(relit, alpha, uniform(0.2 * 16), None, None)
    assert np.round(bright * 255).max() < 255  # the old rule clipped this background to white (16 x 0.25 = 4)
    # the sky is 16 times the face in the picture's radiance before the roll-off: 0.125 and 2.0
    assert srgb_to_linear(bright[SIZE // 2, SIZE // 2])[0] == pytest.approx(0.125, rel=1e-4)
    assert srgb_to_linear(bright[0, 0])[0] == pytest.approx(roll_off(np.array([2.0]), 0.5)[0], rel=1e-4)


def test_a_given_background_picture_is_used_as_it_is(relighter):
    relit, alpha, _ = scene(0.2, 0.0)
    given = np.full((SIZE, SIZE, 3), 0.9, np.float32)  # sRGB, display-referred
    pic = relighter.picture(relit, alpha, uniform(100.0), given, None)
    assert np.allclose(pic[0, 0], 0.9, atol=1e-6)
    assert srgb_to_linear(pic[SIZE // 2, SIZE // 2])[0] == pytest.approx(0.25, rel=1e-4)
