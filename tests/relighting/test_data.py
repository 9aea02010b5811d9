"""Relighting samples: both directions of each pair, scaled radiance, consistent mirrored batches."""

import numpy as np
import pytest

from pipeline.io.manifest import MANIFEST, read_table
from pipeline.relighting.data import RelightCrops, light_scale, load_sample, load_samples, matted_input, sample_refs
from pipeline.training import CropPhase, CropPlan, SampleKey


def test_light_scale_of_a_constant_map():
    assert light_scale(np.full((8, 16, 3), 2.5)) == pytest.approx(1 / 2.5)


def test_matted_input_premultiplies_the_exposed_colour():
    alpha = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    relit = np.full((1, 3, 3), 0.1, dtype=np.float32) * alpha[..., None]
    image = matted_input(relit, alpha, exposure=2.0)  # straight colour 0.1 x 2 = 0.2 linear
    srgb = 1.055 * 0.2 ** (1 / 2.4) - 0.055
    np.testing.assert_allclose(image[0, :, 0], [0.0, 0.5 * srgb, srgb], rtol=1e-5)


def test_both_directions_of_every_pair(relit_dataset):
    samples, sources = load_samples(relit_dataset["relight"], relit_dataset["lightstage"], relit_dataset["lightmaps"], "train")
    pairs = read_table(relit_dataset["relight"] / MANIFEST)
    assert len(samples) == 2 * int((pairs.split == "train").sum()) == len(sources)
    first = samples[0]
    assert first.name.endswith("_ab") and samples[1].name.endswith("_ba")
    assert first.image.shape == first.normals.shape == first.target.shape
    assert first.specular.shape[0] == 4 and np.all(first.image[first.alpha == 0] == 0)
    # scaled radiance is of order one whatever the map's brightness
    assert 0.01 < np.median(first.target[first.alpha > 0.5]) < 10


def test_mirrored_crops_flip_the_normals(relit_dataset):
    refs = sample_refs(relit_dataset["relight"], relit_dataset["lightstage"], relit_dataset["lightmaps"], "train")
    samples = [load_sample(ref) for ref in refs]
    size = samples[0].alpha.shape[0]
    crops = RelightCrops(refs, CropPlan(size), seed=0)
    batch = crops.collate([crops[SampleKey(i, 0)] for i in range(16)])
    mirrored = 0
    for index in range(16):
        image = batch.image[index].permute(1, 2, 0).numpy()
        match = next(s for s in samples if np.allclose(s.image, image) or np.allclose(s.image[:, ::-1], image))
        normals = batch.normals[index].permute(1, 2, 0).numpy()
        if np.allclose(match.image, image) and not np.allclose(match.image[:, ::-1], image):
            np.testing.assert_allclose(normals, match.normals)
        else:
            mirrored += 1
            np.testing.assert_allclose(normals, match.normals[:, ::-1] * [-1, 1, 1], atol=1e-6)
            np.testing.assert_allclose(batch.specular[index].permute(0, 2, 3, 1).numpy(), match.specular[:, :, ::-1], atol=1e-6)
    assert 0 < mirrored < 16
    assert 0 <= float(batch.mix.min()) and float(batch.mix.max()) < 1


def test_a_crop_reads_the_window_of_the_whole_sample(relit_dataset):
    ref = sample_refs(relit_dataset["relight"], relit_dataset["lightstage"], relit_dataset["lightmaps"], "train")[0]
    whole, window = load_sample(ref), (slice(3, 19), slice(5, 21))
    part = load_sample(ref, window)
    for key in ("image", "alpha", "normals", "albedo", "target", "diffuse"):
        np.testing.assert_array_equal(getattr(part, key), getattr(whole, key)[window])
    np.testing.assert_array_equal(part.specular, whole.specular[:, window[0], window[1]])


def test_early_phases_read_smaller_crops(relit_dataset):
    refs = sample_refs(relit_dataset["relight"], relit_dataset["lightstage"], relit_dataset["lightmaps"], "train")
    crops = RelightCrops(refs, CropPlan(crop=16, early=(CropPhase(steps=1, crop=8),)), seed=0)
    keys = [SampleKey(0, 0), SampleKey(1, 0), SampleKey(2, 1), SampleKey(3, 1)]
    assert [crops[key][0]["image"].shape[:2] for key in keys] == [(8, 8), (8, 8), (16, 16), (16, 16)]
