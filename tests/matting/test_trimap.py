"""The unknown band really has the width asked for (a known public recipe gets this wrong)."""

import numpy as np
import pytest
from scipy import ndimage

from pipeline.matting.trimap import (BACKGROUND, FOREGROUND, UNKNOWN, band_width, coarse_segmentation, coarse_trimap, dilate,
                                     disc, distance_to_zero, erode, trimap_from_alpha)


def soft_disc(size=96, radius=28.0, soft=4.0):
    y, x = np.mgrid[:size, :size] - size / 2 + 0.5
    r = np.hypot(x, y)
    return np.clip((radius + soft - r) / (2 * soft), 0, 1)


@pytest.mark.parametrize("width", [1, 3, 7, 12])
def test_band_reaches_exactly_width_pixels_each_side(width):
    alpha = soft_disc()
    trimap = trimap_from_alpha(alpha, width)
    unknown = trimap == UNKNOWN
    # Outside: every pixel within `width` of a non-zero alpha is unknown, and none further.
    outside = ndimage.distance_transform_edt(alpha == 0)
    assert unknown[(outside > 0) & (outside <= width)].all()
    assert not unknown[outside > width].any()
    assert outside[unknown].max() == pytest.approx(width, abs=0.5)
    # Inside: the solid foreground loses exactly `width` pixels to the band.
    solid = alpha >= 0.95
    inside = ndimage.distance_transform_edt(solid)
    assert (trimap[(inside > 0) & (inside <= width)] == UNKNOWN).all()
    assert (trimap[inside > width] == FOREGROUND).all()
    assert (trimap[outside > width] == BACKGROUND).all()
    assert unknown[(alpha > 0) & (alpha < 0.95)].all()  # every fractional pixel is unknown


def test_band_width_scales_with_image_size():
    rng = np.random.default_rng(0)
    small = [band_width(rng, 128, (0.01, 0.05)) for _ in range(200)]
    large = [band_width(rng, 1024, (0.01, 0.05)) for _ in range(200)]
    assert min(small) >= 1 and max(small) <= 6
    assert min(large) >= 10 and max(large) <= 51 and np.mean(large) > 6 * np.mean(small)


def test_coarse_segmentation_misses_thin_parts_and_is_deterministic():
    alpha = soft_disc(soft=0.5)
    alpha[10:80, 47:49] = 1.0  # a 2-pixel strand
    seg_a = coarse_segmentation(alpha, np.random.default_rng(3), thin_radius=2, jitter=2)
    seg_b = coarse_segmentation(alpha, np.random.default_rng(3), thin_radius=2, jitter=2)
    assert np.array_equal(seg_a, seg_b)
    assert not seg_a[12:16, 47:49].any()  # the strand, far from the disc, is gone
    iou = (seg_a & (alpha > 0.5)).sum() / (seg_a | (alpha > 0.5)).sum()
    assert 0.8 < iou < 1.0  # close to, but not, the truth
    trimap = coarse_trimap(seg_a, 4)
    assert set(np.unique(trimap)) == {BACKGROUND, UNKNOWN, FOREGROUND}


def test_border_segmentation_finds_a_subject_over_a_two_colour_background():
    from pipeline.matting.trimap import border_segmentation

    size = 48
    y, x = np.mgrid[:size, :size]
    subject = (y - 28) ** 2 / 16**2 + (x - 24) ** 2 / 11**2 <= 1
    image = np.where((y < size // 2)[..., None], [0.6, 0.7, 0.9], [0.3, 0.5, 0.2])  # sky over grass
    image = image + np.random.default_rng(0).normal(scale=0.01, size=image.shape)
    image[subject] = [0.8, 0.55, 0.45]
    image[26:29, 20:23] = [0.6, 0.7, 0.9]  # a sky-coloured patch inside the subject is not background
    found = border_segmentation(image)
    assert (found & subject).sum() / (found | subject).sum() > 0.97


def test_the_guided_filter_solves_its_3x3_systems():
    from pipeline.matting.guidance import solve3

    rng = np.random.default_rng(1)
    factors = rng.normal(size=(6, 7, 3, 3))
    matrices = (factors @ np.swapaxes(factors, -1, -2) * 0.01 + 1e-4 * np.eye(3)).astype(np.float32)
    vectors = rng.normal(size=(6, 7, 3)).astype(np.float32)
    expected = np.linalg.solve(matrices.astype(np.float64), vectors[..., None].astype(np.float64))[..., 0]
    np.testing.assert_allclose(solve3(matrices, vectors), expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max())


def test_morphology_matches_scipy_binary_morphology():
    """OpenCV's dilate and erode with a disc give scipy.ndimage's pixels, frame borders included
    (erode: outside counts as foreground unless told otherwise; the opening: outside is background)."""
    rng = np.random.default_rng(3)
    for trial in range(60):
        mask = ndimage.gaussian_filter(rng.normal(size=(53, 71)), 3) > rng.uniform(-0.1, 0.1)
        if trial % 2:
            mask[:, :4] = True  # a subject cut by the frame
        radius = int(rng.integers(1, 9))
        np.testing.assert_array_equal(dilate(mask, radius), ndimage.binary_dilation(mask, structure=disc(radius)))
        np.testing.assert_array_equal(erode(mask, radius), ndimage.binary_erosion(mask, structure=disc(radius), border_value=1))
        np.testing.assert_array_equal(dilate(erode(mask, radius, outside=0), radius),
                                      ndimage.binary_opening(mask, structure=disc(radius)))


def test_distance_to_zero_matches_scipy_exact_euclidean_transform():
    """OpenCV's precise distance transform gives scipy.ndimage's exact Euclidean distances (to float32
    rounding), frame borders included: the frame is not a zero pixel, for either."""
    rng = np.random.default_rng(5)
    for trial in range(40):
        mask = ndimage.gaussian_filter(rng.normal(size=(48, 67)), 2.5) > rng.uniform(-0.2, 0.2)
        if trial % 2:
            mask[:, -5:] = True  # touching the frame
        for side in (mask, ~mask):
            np.testing.assert_allclose(distance_to_zero(side), ndimage.distance_transform_edt(side), rtol=1e-6, atol=1e-5)
