"""Pairs: two copies of a task in lock step, bit-identical with equal parameters, apart in the compared ones."""

from __future__ import annotations

import time

import numpy as np
import pytest

from engine.pair import Comparison, PairedTask, side_of
from engine.run import PAUSED, RUNNING, Run
from engine.tasks import dbm, gan, gsn, rbm, vae
from engine.tasks.gan import GAN2DTask
from engine.tasks.rbm import RBMTrainTask
from engine.tasks.vae import VAETask

RBM_DIGITS = {"dataset": "digits", "start": "scratch", "hidden": 32, "batch_size": 20}
VAE_DIGITS = {"dataset": "digits", "hidden": 32, "batch_size": 50}


def _equal(a, b, what):
    assert a.keys() == b.keys(), what
    for k in a:
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]), err_msg=f"{what} {k}")


@pytest.mark.parametrize(("make", "params", "same"), [
    (RBMTrainTask, RBM_DIGITS, {"method": "pcd"}),
    (VAETask, VAE_DIGITS, {"beta": 1.0}),
    (GAN2DTask, {"batch_size": 64}, {"loss": "nonsaturating"}),
])  # fmt: skip
def test_equal_sides_compute_the_same_numbers_bit_for_bit(make, params, same):
    run = Run(PairedTask(make, Comparison("equal", same, same)), params)
    for _ in range(15):
        snap = run.step(1)
    comparison = run.task.comparison
    a, b = side_of(snap, "A", comparison), side_of(snap, "B", comparison)
    _equal(a.arrays, b.arrays, "arrays")
    _equal({k: s.values for k, s in a.metrics.items()}, {k: s.values for k, s in b.metrics.items()}, "metrics")
    run.close()


def test_sides_step_in_lock_step_while_playing_and_differ_where_compared():
    comparison = Comparison("CD-1 against PCD", {"method": "cd"}, {"method": "pcd"})
    run = Run(PairedTask(RBMTrainTask, comparison), RBM_DIGITS)
    run.start()
    for _ in range(20):
        time.sleep(0.02)
        snap = run.snapshot()
        a, b = side_of(snap, "A", comparison), side_of(snap, "B", comparison)
        assert a.step == b.step == snap.step
        if snap.step:
            assert list(a.metrics["epoch"].steps) == list(b.metrics["epoch"].steps) and a.metrics["epoch"].steps[-1] == snap.step
    run.pause()
    snap = run.snapshot()
    a, b = side_of(snap, "A", comparison), side_of(snap, "B", comparison)
    assert snap.step > 5 and a.params["method"] == "cd" and b.params["method"] == "pcd"
    assert not np.array_equal(a.arrays["filters"], b.arrays["filters"])
    assert not np.array_equal(a.arrays["chains"], b.arrays["chains"])  # CD's negatives restart at the data, PCD's do not
    run.close()


def test_a_pair_resumes_from_a_kept_moment_bit_for_bit():
    run = Run(PairedTask(VAETask, vae.COMPARISONS[0]), VAE_DIGITS)
    for _ in range(25):
        run.step(1)
    original = run.snapshot()
    run.resume_from(10)
    run.step(15)
    _equal(run.snapshot().arrays, original.arrays, "arrays")
    run.close()


def test_a_wrecked_or_diverged_side_is_named():
    comparison = Comparison("lr", {"lr": 0.01}, {"lr": 3.0})
    run = Run(PairedTask(RBMTrainTask, comparison), rbm.PRESETS["Learning rate too large"])  # at lr 3 it pauses within a few updates
    run.start()
    deadline = time.monotonic() + 20
    while run.status == RUNNING and time.monotonic() < deadline:
        time.sleep(0.05)
    snap = run.snapshot()
    assert snap.status == PAUSED and "run B" in snap.message and "learning rate" in snap.message
    run.close()


def test_a_comparison_sets_the_same_one_or_two_parameters_and_is_checked():
    with pytest.raises(ValueError, match="same one or two parameters"):
        Comparison("x", {"k": 1}, {"lr": 0.1})
    with pytest.raises(ValueError, match="same one or two parameters"):
        Comparison("x", {"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2, "c": 4})
    with pytest.raises(ValueError, match="k"):
        PairedTask(RBMTrainTask, Comparison("x", {"k": 1}, {"k": 1000}))


@pytest.mark.parametrize(("P", "comparisons"), [
    (rbm.TRAIN_PARAMS, rbm.COMPARISONS), (dbm.TRAINING_PARAMS, dbm.TRAINING_COMPARISONS), (vae.TRAIN_PARAMS, vae.COMPARISONS),
    (gsn.TRAIN_PARAMS, gsn.COMPARISONS), (gan.GAN2D_PARAMS, gan.COMPARISONS_2D), (gan.MNIST_PARAMS, gan.MNIST_COMPARISONS),
])  # fmt: skip
def test_every_declared_comparison_is_allowed_and_differs(P, comparisons):
    for c in comparisons:
        P.check(dict(c.a))
        P.check(dict(c.b))
        assert dict(c.a) != dict(c.b) and c.why
