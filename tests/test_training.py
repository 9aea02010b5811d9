"""The training engine: schedules per optimiser, exact resume of a GAN with EMA and lazy R1,
history streamed exactly once, no history in checkpoints, data-parallel processes."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import torch

from pipeline.models import checkpoint
from pipeline import device
from pipeline.training import (HISTORY_FILE, STATE_FILE, CropPhase, CropPlan, history_summary, Schedule, Trainer,
                               TrainSettings)
from tests.conftest import ROOT, tool_env
from tests.tiny_gan import R1_EVERY, Ring, gan_step, new_trainer, weights


def test_schedules():
    cosine = Schedule("cosine", floor=0.1)
    assert cosine.factor(0, 100) == pytest.approx(1.0) and cosine.factor(100, 100) == pytest.approx(0.1)
    assert cosine.factor(50, 100) == pytest.approx(0.55)
    warm = Schedule("constant", warmup=4)
    assert [warm.factor(s, 100) for s in range(6)] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])


def test_crop_plan_runs_its_phases_in_order_by_global_sample_index():
    plan = CropPlan(batch=4, crop=48, early=(CropPhase(steps=3, crop=16), CropPhase(steps=2, crop=32)))
    assert [plan.at_step(s) for s in range(7)] == [16, 16, 16, 32, 32, 48, 48]
    assert [plan.at_index(i) for i in (0, 11, 12, 19, 20)] == [16, 16, 32, 32, 48]  # sample i is in step i // 4
    assert plan.pixel_share(10) == pytest.approx((3 * 16**2 + 2 * 32**2 + 5 * 48**2) / (10 * 48**2))
    assert CropPlan(batch=4, crop=48).pixel_share(10) == 1.0


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
        trainer = new_trainer(steps=10)
        trainer = type(trainer)(trainer.modules, trainer.optimizers, trainer.settings, device, trainer.state)
        trainer.fit(Ring(seed=0), gan_step, tmp_path / device, "tag")
        results[device] = {k: v.cpu() for k, v in weights(trainer).items()}
    errors = {k: float((results["cpu"][k] - results["cuda"][k]).abs().max()) for k in results["cpu"]}
    assert max(errors.values()) < 1e-3, errors


def test_the_summary_averages_each_loss_over_the_last_tenth_of_the_steps_that_recorded_it(tmp_path):
    rows = [{"step": s, "loss": float(s), **({"r1": float(s)} if s % 4 == 1 else {})} for s in range(1, 41)]
    pd.DataFrame(rows).to_csv(tmp_path / HISTORY_FILE, index=False)
    _, summary = history_summary(tmp_path)
    assert summary == {"final_loss": (37 + 38 + 39 + 40) / 4, "final_r1": 37.0}  # r1 at 1, 5, ..., 37: the last of 10
