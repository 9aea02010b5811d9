"""FENeRF's generator: separate geometry and texture codes, and a semantic field rendered to a segmentation."""

from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline import DataError
from pipeline.gan3d.data import GanSamples
from pipeline.gan3d.segmented import SegmentedFaceSet, SegmentedSamples

from pipeline.gan3d.fenerf import FenerfConfig, FenerfMappingConfig, SemanticSirenConfig
from pipeline.gan3d.pigan_discriminator import PiganDiscriminatorConfig
from pipeline.gan3d.pigan_training import pigan_optimizers, PiganPhase, PiganRecipe, PiganStep
from pipeline.io.arrays import save_array
from pipeline.io.datasets import LABELS
from pipeline.render.volume import VolumeConfig
from pipeline.training import SampleKey, Trainer, TrainSettings
from tests.gan3d.test_eg3d_training import write_dataset
from tests.gan3d.test_pigan import cameras

SMALL = FenerfConfig(mapping=FenerfMappingConfig(z_geometry=8, z_texture=8, hidden=32, hidden_layers=2, layers=3, width=32),
                     field=SemanticSirenConfig(layers=3, width=32, box_warp=1.0, low_layer=2),
                     volume=VolumeConfig(coarse_samples=6, fine_samples=6), resolution=8)


def test_pictures_and_segmentations_have_their_ranges():
    torch.manual_seed(0)
    net = SMALL.build()
    out = net.views(torch.randn(2, net.z_dim), cameras())
    assert net.z_dim == 16
    assert out.image.shape == (2, 3, 8, 8) and out.image.min() >= -1 and out.image.max() <= 1
    assert out.segmentation.shape == (2, len(LABELS), 8, 8) and out.segmentation.min() >= 0
    torch.testing.assert_close(out.segmentation.sum(dim=1), torch.ones(2, 8, 8))  # background takes what passes


def test_the_texture_code_repaints_without_moving_the_geometry_code_moves_both():
    torch.manual_seed(0)
    net = SMALL.build()
    z = torch.randn(1, 16)
    texture, geometry = z.clone(), z.clone()
    texture[:, 8:] = torch.randn(1, 8)
    geometry[:, :8] = torch.randn(1, 8)
    base, repainted, moved = (net.views(code, cameras((0.3,))) for code in (z, texture, geometry))
    assert torch.equal(base.depth, repainted.depth) and torch.equal(base.segmentation, repainted.segmentation)
    assert (base.image - repainted.image).abs().max() > 1e-3
    assert (base.depth - moved.depth).abs().max() > 1e-4
    assert (base.segmentation - moved.segmentation).abs().max() > 1e-4


def test_gradients_reach_both_mappings_and_the_semantic_head():
    torch.manual_seed(0)
    net = SMALL.build()
    out = net(torch.randn(2, 16), cameras(), 8, generator=torch.Generator().manual_seed(0))
    (out.image.mean() + out.segmentation[:, 1].mean()).backward()
    for module in (net.mapping.geometry, net.mapping.texture, net.field.semantic):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


def test_inconsistent_configs_are_refused_naming_the_keys():
    with pytest.raises(ValueError, match=r"field.low_layer \(5\) must be one of the field's layers 1 ... 3"):
        SemanticSirenConfig(layers=3, width=32, low_layer=5)
    with pytest.raises(ValueError, match=r"mapping.layers and mapping.width \(8, 256\)"):
        FenerfConfig(field=SemanticSirenConfig(layers=3, width=32, low_layer=2))


def test_the_semantic_discriminator_judges_a_picture_with_its_segmentation():
    torch.manual_seed(0)
    judge = PiganDiscriminatorConfig(max_resolution=16, channel_base=128, channel_max=16, pose_head=False,
                                     channels=3 + len(LABELS)).build()
    out = SMALL.build()(torch.randn(2, 16), cameras(), 8, generator=torch.Generator().manual_seed(0))
    pair = torch.cat([out.image, out.segmentation * 2 - 1], dim=1)  # both in [-1, 1]
    logit = judge(pair).logit
    assert logit.shape == (2,) and torch.isfinite(logit).all()
    logit.sum().backward()
    with pytest.raises(RuntimeError):  # a picture alone does not fit its input
        judge(out.image.detach())


def write_segmented_dataset(root, count=6, size=16):
    """A dataset folder with label maps beside the images, as the poses stage writes them."""
    for name, _ in write_dataset(root, count, size):
        labels = np.zeros((size, size), np.uint8)
        labels[size // 4: 3 * size // 4, size // 4: 3 * size // 4] = LABELS.index("skin")
        save_array(root / "labels" / f"{Path(name).stem}.npy", labels, dtype=np.uint8)


def test_a_fenerf_step_trains_both_discriminators_and_both_codes(tmp_path):
    write_segmented_dataset(tmp_path / "data")
    torch.manual_seed(0)
    recipe = PiganRecipe(curriculum=(PiganPhase(10, 8, 2, 1e-4, 4e-4, 4),), r1_every=2, density_noise_steps=4,
                         topk_interval=2, ema_half_life=2.0)
    generator = SMALL.build()
    image_judge = PiganDiscriminatorConfig(max_resolution=8, channel_base=64, channel_max=16).build()
    semantic_judge = PiganDiscriminatorConfig(max_resolution=8, channel_base=64, channel_max=16, pose_head=False,
                                              channels=3 + len(LABELS)).build()
    modules = {"generator": generator, "discriminator": image_judge, "semantic": semantic_judge}
    trainer = Trainer(modules, pigan_optimizers(generator, image_judge, recipe, semantic=semantic_judge),
                      TrainSettings(3, 2, 3, 0, "fenerf"), averages={"generator": recipe.ema_half_life})
    faces = SegmentedFaceSet(tmp_path / "data", 16)
    assert faces.segment(0).shape == (16, 16) and faces.segment(0).max() == LABELS.index("skin")
    before = {f"{name}.{key}": p.detach().clone() for name, m in modules.items() for key, p in m.named_parameters()}
    history = []

    def step(trainer, batch):
        history.append(PiganStep(recipe, "semantic")(trainer, batch))
        return history[-1]

    trainer.fit(SegmentedSamples(faces, generator.z_dim, 0), step, tmp_path / "work", "tag")
    assert {"semantic_discriminator", "semantic_generator", "semantic_r1", "pose", "r1"} <= set(history[0])
    after = {f"{name}.{key}": p for name, m in modules.items() for key, p in m.named_parameters()}
    for part in ("discriminator.", "semantic.", "generator.mapping.geometry.", "generator.mapping.texture.",
                 "generator.field.semantic."):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(part)), part


def test_a_face_set_without_label_maps_is_refused_for_the_semantic_discriminator(tmp_path):
    write_dataset(tmp_path / "data")
    with pytest.raises(DataError, match=r"labels/img00000000.npy: not found; the semantic discriminator needs"):
        SegmentedFaceSet(tmp_path / "data", 16)


def test_each_sample_carries_the_label_map_of_its_own_real_image(tmp_path):
    write_segmented_dataset(tmp_path / "data", count=5)
    for k in range(5):  # every image's map differs: image k has class k in its top-left corner
        labels = np.zeros((16, 16), np.uint8)
        labels[0, 0] = k
        save_array(tmp_path / "data" / "labels" / f"img{k:08d}.npy", labels, dtype=np.uint8)
    faces = SegmentedFaceSet(tmp_path / "data", 16)
    plain, segmented = GanSamples(faces, 4, 0), SegmentedSamples(faces, 4, 0)
    for index in range(12):
        key = SampleKey(index, 0)
        picture, *rest, labels = segmented[key]
        expected = plain[key]
        assert np.array_equal(picture, expected[0]) and all(np.array_equal(a, b) for a, b in zip(rest, expected[1:]))
        real = next(k for k in range(5) if np.array_equal(faces.picture(k), picture))
        assert labels[0, 0] == real
