"""Training runs, lowers its loss, checkpoints, and an interrupted run resumes where it stopped."""

import numpy as np
import pytest
import torch

from pipeline.matting.data import BatchRecipe, MattingSample, random_texture, sample_batch
from pipeline.matting.trimap import coarse_segmentation, coarse_trimap, trimap_from_alpha
from pipeline.matting.training import TrainSettings, train
from pipeline.models import checkpoint
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


def settings(steps, adversarial=0.0):
    recipe = BatchRecipe(batch=2, crop=16, band_fraction=(0.05, 0.1), coarse_share=0.4, texture_share=0.3)
    return TrainSettings(steps=steps, learning_rate=1e-3, recipe=recipe, weights=MattingLossWeights(),
                         adversarial_weight=adversarial, checkpoint_every=5, seed=0)


def fresh_model():
    torch.manual_seed(0)
    return MattingNet(MattingConfig(widths=(8, 16, 32)))


def test_batches_are_consistent_composites():
    batch = sample_batch(toy_samples(), np.random.default_rng(1), settings(1).recipe)
    recomposed = batch.alpha * batch.foreground + (1 - batch.alpha) * batch.background
    assert torch.allclose(recomposed, batch.image, atol=1e-6)
    assert batch.image.shape == (2, 3, 16, 16) and torch.all(batch.trimap.sum(1) == 1)


def test_interrupted_training_resumes_to_the_same_weights(tmp_path):
    samples = toy_samples()
    uninterrupted, _, _ = train(fresh_model(), samples, settings(12), tmp_path / "clean", "tag")

    class Interrupt(Exception):
        pass

    def stop_at_seven(step, losses):
        if step == 7:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(fresh_model(), samples, settings(12), tmp_path / "work", "tag", on_step=stop_at_seven)
    assert checkpoint.load(tmp_path / "work" / "train_state.pt")["step"] == 5  # the last checkpoint before the stop
    resumed, history, resumed_from = train(fresh_model(), samples, settings(12), tmp_path / "work", "tag")
    assert resumed_from == 5
    assert [step for step, _ in history] == list(range(1, 13))
    for a, b in zip(uninterrupted.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_a_state_from_other_params_is_not_resumed(tmp_path):
    samples = toy_samples()
    train(fresh_model(), samples, settings(5), tmp_path, "params-A")
    _, _, resumed_from = train(fresh_model(), samples, settings(5), tmp_path, "params-B")
    assert resumed_from == 0


def test_adversarial_training_runs_and_the_loss_falls(tmp_path):
    samples = toy_samples()
    recipe = BatchRecipe(batch=16, crop=16, band_fraction=(0.05, 0.1), coarse_share=0.4, texture_share=0.3)
    held = sample_batch(samples, np.random.default_rng(99), recipe)  # a fixed batch to judge on

    def alpha_loss(model):
        with torch.no_grad():
            return float(matting_losses(model(held.image, held.trimap, held.guidance), held, MattingLossWeights())["alpha"])

    before = alpha_loss(fresh_model())
    trained, history, _ = train(fresh_model(), samples, settings(60, adversarial=0.01), tmp_path, "adv")
    assert {"critic", "adversarial"} <= set(history[-1][1])
    assert alpha_loss(trained) < 0.75 * before


def test_model_file_describes_itself(tmp_path):
    model = fresh_model()
    checkpoint.save(tmp_path / "m.pt", checkpoint.model_payload(model, {"train_matting.steps": 3}, {"relight": "abc.dir"}))
    loaded, payload = checkpoint.load_model(tmp_path / "m.pt", MattingConfig)
    assert loaded.config == model.config and payload["data_hashes"] == {"relight": "abc.dir"}
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)
