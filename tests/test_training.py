"""The training engine: schedules per optimiser, exact resume of a GAN with EMA and lazy R1,
history streamed exactly once, no history in checkpoints, data-parallel processes."""

from __future__ import annotations

import math
import subprocess
import sys

import pandas as pd
import pytest
import torch

from pipeline.models import checkpoint
from pipeline import device
from pipeline.training import (HISTORY_FILE, STATE_FILE, BatchPhase, CropPhase, CropPlan, history_summary, Optimization, phase_at,
                               SampleKey,
                               Schedule, StepBatches, Trainer, TrainSettings)
from tests.conftest import ROOT, tool_env
from tests.tiny_gan import R1_EVERY, Ring, gan_step, new_trainer, weights


@pytest.mark.parametrize("clip", [0.5, 0.0])
def test_descend_clips_the_gradient_norm_it_steps_with(clip):
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 4)
    sgd = Optimization(torch.optim.SGD(net.parameters(), lr=1.0), clip=clip)  # a step of rate 1 is the gradient
    trainer = Trainer({"net": net}, {"net": sgd}, TrainSettings(1, 2, 1, 0, "net"))
    before = [p.detach().clone() for p in net.parameters()]
    trainer.descend("net", (net(torch.ones(2, 4)) * 100).sum())
    step = math.sqrt(sum(float((b - p.detach()).square().sum()) for b, p in zip(before, net.parameters())))
    assert step == pytest.approx(0.5, rel=1e-5) if clip else step > 100


def test_schedules():
    cosine = Schedule("cosine", floor=0.1)
    assert cosine.factor(0, 100) == pytest.approx(1.0) and cosine.factor(100, 100) == pytest.approx(0.1)
    assert cosine.factor(50, 100) == pytest.approx(0.55)
    warm = Schedule("constant", warmup=4)
    assert [warm.factor(s, 100) for s in range(6)] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])


def test_phases_hold_in_order_and_the_last_value_holds_after_them():
    phases = (BatchPhase(steps=3, batch=16), BatchPhase(steps=2, batch=8))
    assert [phase_at(phases, s) for s in (0, 2, 3, 4, 5, 9)] == [
        (phases[0], 0, 0), (phases[0], 0, 2), (phases[1], 1, 0), (phases[1], 1, 1), (None, 2, 0), (None, 2, 4)]
    same = (phases[0], phases[0])  # equal phases are told apart by their place
    assert [phase_at(same, s).index for s in (2, 3, 6)] == [0, 1, 2]
    plan = CropPlan(crop=48, early=(CropPhase(steps=3, crop=16), CropPhase(steps=2, crop=32)))
    assert [plan.at_step(s) for s in range(7)] == [16, 16, 16, 32, 32, 48, 48]
    assert plan.pixel_share(10) == pytest.approx((3 * 16**2 + 2 * 32**2 + 5 * 48**2) / (10 * 48**2))
    assert CropPlan(crop=48).pixel_share(10) == 1.0


def test_each_step_holds_the_next_batch_of_global_sample_indices_as_the_batch_changes():
    settings = TrainSettings(steps=8, batch=2, checkpoint_every=8, seed=0, name="t",
                             batch_phases=(BatchPhase(steps=2, batch=5), BatchPhase(steps=3, batch=3)))
    assert [settings.batch_at(s) for s in range(8)] == [5, 5, 3, 3, 3, 2, 2, 2]
    assert [settings.first_sample(s) for s in range(9)] == [0, 5, 10, 13, 16, 19, 21, 23, 25]
    keys = list(StepBatches(3, settings))
    assert keys[0] == [SampleKey(13, 3), SampleKey(14, 3), SampleKey(15, 3)] and keys[-1] == [SampleKey(23, 7), SampleKey(24, 7)]
    assert len(keys) == 5


@pytest.mark.parametrize("flags, native", [({"avx2", "fma"}, False), ({"avx2", "avx512f", "avx512_bf16"}, True),
                                           ({"avx2", "amx_bf16", "amx_tile"}, True)])
def test_auto_precision_takes_bfloat16_only_where_the_cpu_has_it(monkeypatch, flags, native):
    monkeypatch.setattr(device, "cpu_flags", lambda: frozenset(flags))
    assert device.native_bfloat16("cpu") is native
    net = torch.nn.Conv2d(1, 1, 1)
    for precision, expected in (("auto", native), ("float32", False), ("bfloat16", True)):
        trainer = Trainer({"net": net}, {}, TrainSettings(1, 1, 1, 0, "net", precision=precision))
        assert trainer.bfloat16 is expected
        with trainer.autocast():
            assert (net(torch.ones(1, 1, 2, 2)).dtype == torch.bfloat16) is expected


def test_the_cpu_flags_are_read_from_the_machine():
    flags = device.cpu_flags()
    assert not flags or "fpu" in flags or "sse2" in flags  # Linux lists them; elsewhere none


def test_every_optimizer_follows_its_own_schedule(tmp_path):
    trainer = new_trainer(steps=12)
    rates = []

    def step(t, batch):
        rates.append({name: o.optimizer.param_groups[0]["lr"] for name, o in t.optimizers.items()})
        return gan_step(t, batch)

    trainer.fit(Ring(seed=0), step, tmp_path, "tag")
    assert [r["generator"] for r in rates[:4]] == pytest.approx([2e-3 / 3, 4e-3 / 3, 2e-3, 2e-3])
    discriminator = [r["discriminator"] for r in rates]  # the critic is annealed too
    assert discriminator[0] == pytest.approx(2e-3) and discriminator[-1] < 0.15 * 2e-3
    assert all(a > b for a, b in zip(discriminator, discriminator[1:]))


class Interrupt(Exception):
    pass


def test_an_interrupted_gan_resumes_to_bit_identical_weights(tmp_path):
    clean = new_trainer(steps=13)
    clean.fit(Ring(seed=0), gan_step, tmp_path / "clean", "tag")

    def stop_at_seven(trainer, batch):
        if trainer.step == 7:
            raise Interrupt
        return gan_step(trainer, batch)

    with pytest.raises(Interrupt):
        new_trainer(steps=13).fit(Ring(seed=0), stop_at_seven, tmp_path / "work", "tag")
    assert checkpoint.load(tmp_path / "work" / STATE_FILE)["step"] == 5
    logged = []
    resumed = new_trainer(steps=13)
    assert resumed.fit(Ring(seed=0), gan_step, tmp_path / "work", "tag", log_history=logged.extend) == 5
    before, after = weights(clean), weights(resumed)
    assert before.keys() == after.keys() and any(k.startswith("ema.") for k in after)
    for name in before:
        assert torch.equal(before[name], after[name]), name
    # the resumed run's history holds each step once: replayed 1-5, then streamed 6-13
    assert [step for step, _ in logged] == list(range(1, 14))
    table = pd.read_csv(tmp_path / "work" / HISTORY_FILE)
    assert table["step"].tolist() == list(range(1, 14))
    assert table.loc[table["step"] % R1_EVERY == 1, "r1"].notna().all()  # lazy R1 at steps 0, 4, 8, 12 (0-based)
    assert table["r1"].notna().sum() == 4
    clean_table = pd.read_csv(tmp_path / "clean" / HISTORY_FILE)
    pd.testing.assert_frame_equal(table, clean_table)


def test_a_curriculum_of_batches_resumes_mid_phase_to_bit_identical_weights(tmp_path):
    phases = (BatchPhase(steps=4, batch=12), BatchPhase(steps=4, batch=6))
    seen = []

    def counting(trainer, batch):
        seen.append((trainer.step, batch[0].shape[0], trainer.batch))
        return gan_step(trainer, batch)

    clean = new_trainer(steps=11, batch_phases=phases)
    clean.fit(Ring(seed=0), counting, tmp_path / "clean", "tag")
    assert [size for _, size, _ in seen] == [12] * 4 + [6] * 4 + [8] * 3
    assert all(size == batch for _, size, batch in seen)

    def stop_at_six(trainer, batch):  # in the second phase; the checkpoint at 5 is in it too
        if trainer.step == 6:
            raise Interrupt
        return gan_step(trainer, batch)

    with pytest.raises(Interrupt):
        new_trainer(steps=11, batch_phases=phases).fit(Ring(seed=0), stop_at_six, tmp_path / "work", "tag")
    resumed = new_trainer(steps=11, batch_phases=phases)
    seen.clear()
    assert resumed.fit(Ring(seed=0), counting, tmp_path / "work", "tag") == 5
    assert [(step, size) for step, size, _ in seen] == [(5, 6), (6, 6), (7, 6), (8, 8), (9, 8), (10, 8)]
    before, after = weights(clean), weights(resumed)
    for name in before:
        assert torch.equal(before[name], after[name]), name


def test_the_loop_averages_weights_after_each_step_with_the_half_life_of_that_step(tmp_path):
    asked, after_steps = [], []

    def ramp(step):
        asked.append(step)
        return 1.0 + step

    trainer = new_trainer(steps=4)
    trainer = Trainer(trainer.modules, trainer.optimizers, trainer.settings, averages={"generator": ramp, "discriminator": 0})
    start = [p.detach().clone() for p in trainer.modules["generator"].parameters()]

    def step(t, batch):
        losses = gan_step(t, batch)
        after_steps.append([p.detach().clone() for p in t.modules["generator"].parameters()])
        return losses

    trainer.fit(Ring(seed=0), step, tmp_path, "tag")
    assert asked == [0, 1, 2, 3] and list(trainer.averages) == ["generator"]
    expected = start
    for k, current in enumerate(after_steps):
        expected = [torch.lerp(a, w, 1 - 0.5 ** (1 / (1.0 + k))) for a, w in zip(expected, current)]
    for average, manual in zip(trainer.trained("generator").parameters(), expected):
        torch.testing.assert_close(average, manual)
    assert trainer.trained("discriminator") is trainer.modules["discriminator"]


def test_a_state_of_another_layout_is_not_resumed(tmp_path):
    new_trainer(steps=5).fit(Ring(seed=0), gan_step, tmp_path, "tag")
    payload = checkpoint.load(tmp_path / STATE_FILE)
    checkpoint.save(tmp_path / STATE_FILE, {**payload, "format": payload["format"] - 1})
    assert new_trainer(steps=5).fit(Ring(seed=0), gan_step, tmp_path, "tag") == 0


def test_a_loader_process_gives_the_data_of_the_training_process(tmp_path):
    # LIGHTSTAGE_WORKERS is an execution setting: items are keyed to their index, so loading them
    # in a worker process must not change a single weight
    in_process, loader = new_trainer(steps=6), new_trainer(steps=6, workers=1)
    in_process.fit(Ring(seed=0), gan_step, tmp_path / "in_process", "tag")
    loader.fit(Ring(seed=0), gan_step, tmp_path / "loader", "tag")
    before, after = weights(in_process), weights(loader)
    for name in before:
        assert torch.equal(before[name], after[name]), name


def test_a_state_from_other_params_is_not_resumed(tmp_path):
    new_trainer(steps=5).fit(Ring(seed=0), gan_step, tmp_path, "params-A")
    assert new_trainer(steps=5).fit(Ring(seed=0), gan_step, tmp_path, "params-B") == 0


def test_checkpoints_hold_no_history(tmp_path):
    sizes = {}
    for steps in (5, 40):
        new_trainer(steps=steps).fit(Ring(seed=0), gan_step, tmp_path / str(steps), "tag")
        payload = checkpoint.load(tmp_path / str(steps) / STATE_FILE)
        assert "history" not in payload
        sizes[steps] = (tmp_path / str(steps) / STATE_FILE).stat().st_size
    assert abs(sizes[40] - sizes[5]) < 64  # only the step number differs


@pytest.mark.slow
def test_two_processes_reach_the_weights_of_one(tmp_path):
    """2 gloo processes with half the batch each against 1 process with the whole batch.
    Tolerance: the gradients are summed in another order (two half sums, then the all-reduce), so
    they differ by float32 rounding, ~1e-7 relative per step, and Adam divides by sqrt(v), which
    can amplify a rounding difference in a near-zero gradient; over 20 steps we measured 6e-8 at
    most. 1e-5 absolute on weights of order 0.1-1 leaves room for other CPUs' summation orders and
    stays far below what a wrong split does (a different batch moves the weights by > 1e-3; see
    the check below)."""
    env = tool_env(OMP_NUM_THREADS="1")
    single, double = tmp_path / "one.pt", tmp_path / "two.pt"
    command = [sys.executable, "-m", "tests.tiny_gan", "--steps", "20", "--batch", "8"]
    subprocess.run([*command, str(single)], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                    *command[1:], str(double)], cwd=ROOT, env=env, check=True, capture_output=True)
    one, two = torch.load(single), torch.load(double)
    errors = {k: float((one[k] - two[k]).abs().max()) for k in one}
    print("largest weight difference, 1 vs 2 processes:", max(errors.values()))
    assert max(errors.values()) < 1e-5, errors
    other_batch = tmp_path / "other.pt"  # the same run on a batch of 6: clearly different weights
    subprocess.run([*command[:-1], "6", str(other_batch)], cwd=ROOT, env=env, check=True, capture_output=True)
    assert max(float((one[k] - torch.load(other_batch)[k]).abs().max()) for k in one) > 1e-3


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the CPU/GPU agreement needs one")
def test_cuda_trains_as_the_cpu_does(tmp_path):
    """10 steps of the tiny GAN on CUDA against the CPU. Tolerance 1e-3: cuBLAS sums in other
    orders and may use TF32 (10-bit mantissa) for matrix products, ~1e-4 relative per step."""
    results = {}
    for device in ("cpu", "cuda"):
        trainer = new_trainer(steps=10, device=device)
        trainer.fit(Ring(seed=0), gan_step, tmp_path / device, "tag")
        results[device] = {k: v.cpu() for k, v in weights(trainer).items()}
    errors = {k: float((results["cpu"][k] - results["cuda"][k]).abs().max()) for k in results["cpu"]}
    assert max(errors.values()) < 1e-3, errors


def test_the_summary_averages_each_loss_over_the_last_tenth_of_the_steps_that_recorded_it(tmp_path):
    rows = [{"step": s, "loss": float(s), **({"r1": float(s)} if s % 4 == 1 else {})} for s in range(1, 41)]
    pd.DataFrame(rows).to_csv(tmp_path / HISTORY_FILE, index=False)
    _, summary = history_summary(tmp_path)
    assert summary == {"final_loss": (37 + 38 + 39 + 40) / 4, "final_r1": 37.0}  # r1 at 1, 5, ..., 37: the last of 10
