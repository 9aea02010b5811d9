"""Matting batches, keyed items, and training on the engine (resume is tested in tests/test_training.py)."""

import numpy as np
import pandas as pd
import pytest
import torch

from pipeline.matting.data import (BatchRecipe, InMemory, MattingCrops, MattingSample, OnDisk, load_sample, matting_refs,
                                  random_texture, sample_batch, training_example)
from pipeline.matting.trimap import coarse_segmentation, coarse_trimap, trimap_from_alpha
from pipeline.matting.training import CRITIC, MattingObjective
from pipeline.models import checkpoint
from pipeline.training import HISTORY_FILE, KeyedDataset, SampleKey, Trainer, TrainSettings, adam
from pipeline.models.matting import MattingConfig, MattingLossWeights, MattingNet, matting_losses
from tests.matting.test_trimap import soft_disc


def toy_samples(count=4, size=32):
    rng = np.random.default_rng(0)
    samples = []
    for i in range(count):
        alpha = soft_disc(size, radius=9 + i, soft=2.0).astype(np.float32)
        segmentation = coarse_segmentation(alpha, rng, 1, 1)
        samples.append(MattingSample(name=f"toy{i}", foreground=random_texture(rng, size, size), alpha=alpha,
                                     background=random_texture(rng, size, size), trimap=trimap_from_alpha(alpha, 2),
                                     coarse_trimap=coarse_trimap(segmentation, 2)))
    return samples


RECIPE = BatchRecipe(batch=2, crop=16, band_fraction=(0.05, 0.1), coarse_share=0.4, texture_share=0.3)


class ToyCrops(KeyedDataset):
    """Keyed training items over samples held in memory."""

    def __init__(self, samples, recipe=RECIPE, seed=0):
        super().__init__(seed)
        self.samples, self.recipe = samples, recipe

    def item(self, rng, key):
        return training_example(InMemory(self.samples), rng, self.recipe, self.recipe.crop), float(rng.uniform())

    collate = MattingCrops.collate


def fresh_model():
    torch.manual_seed(0)
    return MattingNet(MattingConfig(widths=(8, 16, 32)))


def train(samples, steps, work, adversarial=0.0, recipe=RECIPE, step=None):
    model = fresh_model()
    modules, optimizers = {"matting": model}, {"matting": adam(model, 1e-3)}
    if adversarial > 0:
        modules["critic"] = CRITIC.build()
        optimizers["critic"] = adam(modules["critic"], 1e-3, (0.5, 0.9))
    trainer = Trainer(modules, optimizers, TrainSettings(steps, recipe.batch, 5, 0, "matting"))
    objective = MattingObjective(MattingLossWeights(), adversarial)
    trainer.fit(ToyCrops(samples, recipe), step or objective, work, "tag")
    return model, pd.read_csv(work / HISTORY_FILE)


def test_batches_are_consistent_composites():
    batch = sample_batch(toy_samples(), np.random.default_rng(1), RECIPE)
    recomposed = batch.alpha * batch.foreground + (1 - batch.alpha) * batch.background
    assert torch.allclose(recomposed, batch.image, atol=1e-6)
    assert batch.image.shape == (2, 3, 16, 16) and torch.all(batch.trimap.sum(1) == 1)


def test_clutter_share_puts_crops_over_indoor_clutter_not_the_samples_backgrounds():
    samples = toy_samples()
    indoor = BatchRecipe(batch=8, crop=16, band_fraction=(0.05, 0.1), coarse_share=0.4, texture_share=0.0, clutter_share=1.0)
    batch = sample_batch(samples, np.random.default_rng(2), indoor)
    recomposed = batch.alpha * batch.foreground + (1 - batch.alpha) * batch.background
    assert torch.allclose(recomposed, batch.image, atol=1e-6)
    # every backdrop is new: no 16 px window of any sample's own background
    own = torch.stack([torch.from_numpy(s.background).permute(2, 0, 1) for s in samples])
    windows = own.unfold(2, 16, 1).unfold(3, 16, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, 3, 16, 16)
    for b in batch.background:
        assert (windows - b).abs().amax(dim=(1, 2, 3)).min() > 0.05
    # a room's hard edges (shelves, frames), not only smooth noise: some neighbours differ by a lot
    assert max(float(b.diff(dim=-1).abs().max()) for b in batch.background) > 0.1
    again = sample_batch(samples, np.random.default_rng(2), indoor)
    assert torch.equal(again.image, batch.image)
    none = BatchRecipe(batch=8, crop=16, band_fraction=(0.05, 0.1), coarse_share=0.4, texture_share=0.0)
    assert not torch.equal(sample_batch(samples, np.random.default_rng(2), none).background, batch.background)


def test_keyed_items_do_not_depend_on_the_order_they_are_read_in():
    data = ToyCrops(toy_samples())
    first = [data[SampleKey(i, 0)][0]["images"] for i in (3, 1, 2)]
    again = [data[SampleKey(i, 0)][0]["images"] for i in (1, 2, 3)]
    np.testing.assert_array_equal(first[0], again[2])
    assert not np.array_equal(first[1], first[2])


def test_crops_read_from_disk_are_the_crops_of_the_whole_samples(relit_dataset, tmp_path):
    # OnDisk reads only the crop of the colour layers; the crop must be that of the whole sample
    from pipeline.schema.trimaps import TrimapsParams
    from pipeline.stage import StageContext
    from stages import trimaps
    from tests.conftest import BASE

    params = TrimapsParams(band_fraction=[0.05, 0.1], fg_threshold=0.95, thin_fraction=0.02, jitter_fraction=0.02,
                           coarse_band_fraction=0.05)
    trimaps.run(StageContext(BASE, params), {"lightstage": relit_dataset["lightstage"]}, {"trimaps": tmp_path / "trimaps"})
    refs = matting_refs(relit_dataset["relight"], relit_dataset["lightstage"], tmp_path / "trimaps", "train")
    recipe = BatchRecipe(batch=1, crop=16, band_fraction=(0.05, 0.1), coarse_share=0.5, texture_share=0.3)
    on_disk, in_memory = OnDisk(refs), InMemory([load_sample(ref) for ref in refs])
    for seed in range(12):
        read = training_example(on_disk, np.random.default_rng(seed), recipe, recipe.crop)
        held = training_example(in_memory, np.random.default_rng(seed), recipe, recipe.crop)
        for key in held:
            np.testing.assert_allclose(read[key], held[key], atol=1e-6, err_msg=key)


def test_adversarial_training_runs_and_the_loss_falls(tmp_path):
    samples = toy_samples()
    recipe = BatchRecipe(batch=16, crop=16, band_fraction=(0.05, 0.1), coarse_share=0.4, texture_share=0.3)
    held = sample_batch(samples, np.random.default_rng(99), recipe)  # a fixed batch to judge on

    def alpha_loss(model):
        with torch.no_grad():
            return float(matting_losses(model(held.image, held.trimap, held.guidance), held, MattingLossWeights())["alpha"])

    before = alpha_loss(fresh_model())
    trained, history = train(samples, 60, tmp_path, adversarial=0.01)
    assert {"critic", "adversarial"} <= set(history.columns)
    assert alpha_loss(trained) < 0.75 * before


def test_model_file_describes_itself(tmp_path):
    model = fresh_model()
    checkpoint.save(tmp_path / "m.pt", checkpoint.model_payload(model, {"train_matting.steps": 3}, {"relight": "abc.dir"}))
    loaded, payload = checkpoint.load_model(tmp_path / "m.pt", MattingConfig)
    assert loaded.config == model.config and payload["data_hashes"] == {"relight": "abc.dir"}
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)


def test_decoder_widths_set_every_decoder_and_round_trip(tmp_path):
    model = MattingNet(MattingConfig(widths=(8, 16, 32), decoder_widths=(6, 4)))
    assert [block[0].out_channels for block in model.alpha_decoder.blocks] == [6, 4]
    assert model.alpha_head[0].in_channels == 4 and model.trimap_head.in_channels == 4
    out = model(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16))
    assert out.alpha.shape == (1, 1, 16, 16)
    checkpoint.save(tmp_path / "m.pt", checkpoint.model_payload(model, {}, {}))
    loaded, _ = checkpoint.load_model(tmp_path / "m.pt", MattingConfig)
    assert loaded.config.decoder_widths == (6, 4)
    with pytest.raises(ValueError, match="decoder_widths has 3 entries"):
        MattingConfig(widths=(8, 16, 32), decoder_widths=(6, 4, 2))


def test_shared_decoder_feeds_every_head_and_round_trips(tmp_path):
    separate = MattingNet(MattingConfig(widths=(8, 16, 32)))
    shared = MattingNet(MattingConfig(widths=(8, 16, 32), shared_decoder=True))
    decoder_size = sum(p.numel() for p in separate.alpha_decoder.parameters())
    # two decoders fewer, the heads unchanged
    assert sum(p.numel() for p in separate.parameters()) - sum(p.numel() for p in shared.parameters()) == 2 * decoder_size
    assert not hasattr(shared, "alpha_decoder")
    image, trimap = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    for head in ("trimap_logits", "alpha", "foreground"):  # each output's loss trains the one decoder
        shared.zero_grad()
        getattr(shared(image, trimap), head).mean().backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in shared.decoder.parameters())
    checkpoint.save(tmp_path / "m.pt", checkpoint.model_payload(shared, {}, {}))
    loaded, _ = checkpoint.load_model(tmp_path / "m.pt", MattingConfig)
    assert loaded.config.shared_decoder
    with torch.no_grad():
        assert torch.equal(loaded(image, trimap).alpha, shared(image, trimap).alpha)


