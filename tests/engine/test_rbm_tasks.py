"""RBM run tasks: Gibbs chains converge to the exact distribution, parameters are checked, divergence pauses."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.checkpoint import CheckpointError
from engine.eval.mcmc import autocorrelation, exact_visible_distribution, total_variation
from engine.run import PAUSED, Run
from engine.tasks.rbm import GIBBS_PARAMS, PRESETS, PRESETS_GIBBS, TRAIN_PARAMS, GibbsTask, RBMTrainTask, clamp_mask, load_pretrained

torch.set_num_threads(1)
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_gibbs_chains_on_bars_and_stripes_approach_the_exact_distribution():
    run = Run(GibbsTask(), {"model": "bars-stripes", "chains": 400})
    early = run.step(100).latest("tv")
    late = run.step(1400).latest("tv")
    assert late < 0.08 and late < early / 2
    exact = run.snapshot().arrays["exact_top"]
    assert 0.5 < exact.sum() <= 1.0


def test_clamped_pixels_of_a_chosen_image_never_change():
    run = Run(GibbsTask(), {"model": "bars-stripes", "init": "image", "image": 7, "chains": 9, "clamp": "top"})
    first = run.snapshot().arrays["visible"].copy()
    last = run.step(50).arrays["visible"]
    assert np.abs(last[:, :2] - first[:, :2]).max() == 0.0


def test_gibbs_chains_report_the_free_energy_of_their_starting_states():
    run = Run(GibbsTask(), {"model": "bars-stripes", "chains": 5})
    a = run.snapshot().arrays
    model = run.task.rbm
    start = torch.tensor(a["visible"].reshape(5, -1))
    expected = model.free_energy(start).numpy()
    np.testing.assert_allclose(a["fe_trace"][:, -1], expected, rtol=1e-5)
    assert float(a["mean_free_energy"]) == pytest.approx(expected.mean(), rel=1e-5)


def test_clamp_masks_use_the_region_names_of_engine_models_clamp():
    left = clamp_mask((4, 6), "left")
    assert int(left.sum()) == 12 and left.reshape(4, 6)[:, :3].all() and not left.reshape(4, 6)[:, 3:].any()
    assert int(clamp_mask((4, 6), "top").reshape(4, 6)[:2].sum()) == 12
    assert clamp_mask((4, 6), "none") is None
    assert GibbsTask.PARAMS["clamp"].labels["top"] == "top half"


def test_the_chains_autocorrelation_of_the_free_energy_is_computed_over_the_second_half_of_the_trace():
    run = Run(GibbsTask(), {"model": "bars-stripes", "chains": 9})
    run.step(25)
    a = run.snapshot().arrays
    trace = a["fe_trace"][:, -26:]
    np.testing.assert_allclose(a["fe_autocorrelation"], autocorrelation(trace[:, 13:], 6))
    run.close()


def test_parameters_out_of_range_are_refused_with_their_name():
    run = Run(RBMTrainTask(), {"dataset": "digits", "start": "scratch", "hidden": 16})
    with pytest.raises(ValueError, match=r"lr must be between 0.0001 and 3, got 50.0"):
        run.update_params(lr=50.0)
    with pytest.raises(ValueError, match="k must be between 1 and 25, got 0"):
        run.update_params(k=0)
    with pytest.raises(ValueError, match="beta must be between 0.1 and 3, got -1.0"):
        Run(GibbsTask(), {"model": "bars-stripes", "beta": -1.0})
    assert run.params["lr"] == TRAIN_PARAMS["lr"].default_for("digits")


def test_training_task_steps_and_reports_its_monitors():
    run = Run(RBMTrainTask(), {"dataset": "digits", "start": "scratch", "hidden": 32, "lr": 0.3, "method": "cd"})
    snap = run.step(81)
    assert snap.step == 81
    assert len(snap.metrics["recon_error"].values) == 5  # monitors every 20 steps
    assert snap.metrics["recon_error"].values[-1] < snap.metrics["recon_error"].values[0] - 1.0  # about 9.2 -> 7.3 squared pixels
    assert snap.arrays["filters"].shape == (32, 8, 8)


@pytest.mark.skipif(not (SHARED / "frey").exists(), reason="Frey faces not in ../shared/data")
def test_a_diverging_gaussian_rbm_pauses_and_rolls_back():
    params = {"dataset": "frey", "start": "scratch", "hidden": 50, "lr": 1.0, "momentum": 0.9, "learn_precision": True, "batch_size": 20}
    run = Run(RBMTrainTask(root=str(SHARED)), params)
    snap = run.step(200)  # the first monitor sees the reconstruction error explode (about 4716 against 195): wrecked, still finite
    assert snap.status == PAUSED and snap.step == 1 and "times its best" in snap.message and "lower the learning rate" in snap.message
    snap = run.step(200)  # going on anyway: the weights turn NaN within a few steps (step 4 here) and the run rolls back to a good step
    assert snap.status == PAUSED and "NaN" in snap.message and "rolled back to step" in snap.message
    assert np.isfinite(snap.arrays["filters"]).all()


def test_pretrained_checkpoints_load_and_refuse_a_wrong_shape(tmp_path):
    mnist, extra = load_pretrained("mnist")
    assert (mnist.n_visible, mnist.n_hidden, mnist.config.image_shape, extra["dataset"]) == (784, 500, (28, 28), "mnist")
    frey, extra = load_pretrained("frey")
    assert frey.gaussian and frey.config.image_shape == (28, 20) and extra["scale"] > 0
    before = frey.W.clone()
    with pytest.raises(CheckpointError, match="mnist_pcd_500.safetensors"):
        frey.load_into(Path(__file__).resolve().parents[2] / "assets" / "rbm" / "mnist_pcd_500")
    assert torch.equal(frey.W, before)


def test_a_learning_rate_far_too_large_pauses_the_run_naming_it_while_the_lessons_own_settings_train():
    wrecked = Run(RBMTrainTask(), PRESETS["Learning rate too large"])
    snap = wrecked.step(200)
    assert snap.status == PAUSED and snap.step == 1  # the first monitor already sees it
    found = re.search(r"the reconstruction error \((\d+\.\d)\) is (\d+\.\d) times its best \((\d+\.\d)\)", snap.message)
    assert found and float(found[2]) >= 1.5 and abs(float(found[3]) - 9.2) < 0.3  # about 19 against the starting 9.2
    assert "Try this: lower the learning rate or the momentum" in snap.message
    for name in ("CD-1 samples", "PCD samples"):
        healthy = Run(RBMTrainTask(), PRESETS[name])
        snap = healthy.step(600)
        assert snap.step == 600 and snap.status != PAUSED
        values = snap.metrics["recon_error"].values
        assert values[-1] < 0.85 * values[0]  # about 9.2 -> 7.0-7.9
    tiny = Run(RBMTrainTask(), {"dataset": "bars-stripes", "start": "scratch"}).step(3000)  # errors near 0.03 that double are no wreck
    assert tiny.step == 3000 and tiny.status != PAUSED and tiny.metrics["recon_error"].values.min() < 0.2


def _tempered(rbm, beta: float) -> np.ndarray:
    """The exact P_β(v) ∝ Σₕ exp(−β E(v, h)) that Gibbs sampling at inverse temperature β targets: the RBM with βW, βb, βc."""
    scaled = rbm.copy()
    for t in (scaled.W, scaled.b, scaled.c):
        t.mul_(beta)
    return exact_visible_distribution(scaled).numpy()


def _gibbs_lesson(preset: str, seed: int, steps: int = 500) -> dict[str, float]:
    """After ``steps`` sweeps of a Gibbs preset: its TV to the exact P(v) at 50 and at ``steps`` steps, the TV of its
    histogram to its own P_β, that of as many independent draws from P_β, and the share of chains changing state per step."""
    params = {**PRESETS_GIBBS[preset], "seed": seed}
    task = GibbsTask()
    task.reset(params)
    changed, tv = 0.0, {}
    for step in range(1, steps + 1):
        before = task.v
        tv[step] = task.step(params)["tv"]
        changed += float((task.v != before).any(1).float().mean())
    target = _tempered(task.rbm, params["beta"])
    draws = task.counts.sum()
    independent = np.bincount(np.random.default_rng(seed).choice(len(target), size=int(draws), p=target), minlength=len(target)) / draws
    return {"tv_50": tv[50], "tv": tv[steps], "tv_beta": total_variation(task.counts / draws, target),
            "tv_beta_independent": total_variation(independent, target), "moving": changed / steps}  # fmt: skip


def test_gibbs_presets_are_complete_setups_the_task_accepts():
    for values in PRESETS_GIBBS.values():
        GIBBS_PARAMS.check(values)
        assert set(values) == {p.name for p in GIBBS_PARAMS}


@pytest.mark.parametrize("seed", (0, 1, 2))
def test_gibbs_presets_show_their_lessons(seed):
    """Measured (PRESETS_GIBBS's docstring), after 500 steps: β = 1 reaches TV 0.07-0.10 to P(v), 2.6-3.4 times as far as
    independent draws; β = 3 moves 0.5% of its chains per step and stays 0.55-0.59 from its own P_β (independent draws:
    0.004); β = 0.5 moves 98% and is as close to P_β as independent draws, yet 0.76 from P(v)."""
    model = _gibbs_lesson("β = 1 converges to the exact P(v)", seed)
    cold = _gibbs_lesson("A cold chain does not mix", seed)
    hot = _gibbs_lesson("A hot chain mixes fast, to a flatter P(v)", seed)
    assert model["tv_50"] > 0.15 and model["tv"] < 0.12
    assert 1.5 < model["tv_beta"] / model["tv_beta_independent"] < 6
    assert cold["moving"] < 0.02 and cold["tv"] > 0.25 and cold["tv_beta"] > 0.45 and cold["tv_beta_independent"] < 0.02
    assert hot["moving"] > 0.95 and hot["tv"] > 0.7 and hot["tv_beta"] < 1.05 * hot["tv_beta_independent"]
