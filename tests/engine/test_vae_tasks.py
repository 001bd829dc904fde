"""VAE Run tasks and CLI: training improves the bound, bad parameters are refused, state rolls back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.eval.vae_bounds import mean_elbo
from engine.models.vae import VAE
from engine.run import Run
from engine.tasks.vae import COMPARE_PARAMS, MANIFOLD_PARAMS, PRETRAINED, TRAIN_PARAMS, CompareTask, VAETask, decoder_from_arrays, heldout_rows
from lab import cli

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
DIGITS = {"dataset": "digits", "hidden": 64, "lr": 3e-3, "batch_size": 100}


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.mark.parametrize("rule", ["aevb", "wake-sleep"])
def test_training_raises_the_held_out_elbo(rule):
    task = VAETask(eval_every=150)
    params = TRAIN_PARAMS.complete({**DIGITS, "rule": rule})
    task.reset(params)
    first = task.step(params)["test_elbo"]
    last = [task.step(params) for _ in range(149)][-1]
    assert last["test_elbo"] > first + 5.0
    assert last["elbo"] == pytest.approx(last["recon"] - last["kl"], abs=1e-4)
    assert last["samples_seen"] == 150 * 100


def test_iwae_objective_and_beta_are_live():
    task = VAETask()
    params = TRAIN_PARAMS.complete(DIGITS)
    task.reset(params)
    m = task.step({**params, "k": 5})
    assert "iwae" in m and np.isfinite(m["iwae"])
    assert "iwae" not in task.step({**params, "beta": 0.5})


@pytest.mark.parametrize(
    "bad, word",
    [({"lr": 1.0}, "lr"), ({"batch_size": 0}, "batch_size"), ({"beta": -1}, "beta"), ({"n_z": 3}, "n_z"), ({"dataset": "cifar"}, "dataset"), ({"k": 1000}, "k")],
)
def test_bad_parameters_are_refused_by_name(bad, word):
    run = Run(VAETask(), TRAIN_PARAMS.complete(DIGITS))
    with pytest.raises(ValueError, match=word):
        run.update_params(**bad)
    run.close()


def test_state_restore_rolls_the_model_back():
    task = VAETask()
    params = TRAIN_PARAMS.complete(DIGITS)
    task.reset(params)
    task.step(params)
    saved = task.state()
    before = task.arrays()["out.weight"].copy()
    for _ in range(5):
        task.step(params)
    assert not np.array_equal(task.arrays()["out.weight"], before)
    task.restore(saved)
    np.testing.assert_array_equal(task.arrays()["out.weight"], before)
    assert task.seen == 100


def test_published_decoder_rebuilds_the_same_means():
    task = VAETask()
    task.reset(TRAIN_PARAMS.complete(DIGITS))
    z = torch.randn(7, 2)
    decoder = decoder_from_arrays(task.config, task.arrays())
    with torch.no_grad():
        assert torch.equal(decoder.mean(z), task.model.decoder.mean(z))


def test_compare_task_trains_every_latent_size_and_rule():
    task = CompareTask(latents=(2, 5), eval_every=2)
    params = COMPARE_PARAMS.complete({"dataset": "digits", "hidden": 32})
    task.reset(params)
    metrics = [task.step(params) for _ in range(2)]
    assert set(metrics[1]) == {f"{r}/{n}/{s}" for r in ("aevb", "wake-sleep") for n in (2, 5) for s in ("train", "test")}
    arrays = task.arrays()
    assert arrays["prior/aevb/5"].shape == (64, 8, 8)
    with pytest.raises(ValueError, match=r"latents must be a non-empty subset of \(2, 5, 10, 20\), got \(3,\)"):
        CompareTask(latents=(3,))
    with pytest.raises(ValueError, match="rules must be"):
        CompareTask(rules=("gibbs",))


def test_cli_train_then_eval(tmp_path, capsys):
    out = tmp_path / "digits"
    assert cli.main(["train", "vae", "--dataset", "digits", "--epochs", "3", "--hidden", "64", "--lr", "3e-3", "--out", str(out), "--json"]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert trained["steps"] == 45
    assert cli.main(["eval", "vae", str(out), "--n", "100", "--ks", "1", "10", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result["iwae"]) == {"1", "10"}
    assert result["elbo"] == pytest.approx(result["recon"] - result["kl"], abs=1e-9)
    assert result["iwae"]["10"] <= result["log_px_quadrature"] + 0.1
    assert result["elbo"] <= result["log_px_quadrature"]
    assert 0 <= result["active_units"] <= 2
    assert "fixed" in result["likelihood"]


def test_cli_reports_a_missing_checkpoint(tmp_path, capsys):
    assert cli.main(["eval", "vae", str(tmp_path / "nothing")]) == 1
    assert "not found" in capsys.readouterr().err


def test_a_diverging_run_pauses_with_a_message_and_rolls_back():
    run = Run(VAETask(), TRAIN_PARAMS.complete(DIGITS))
    run.step(3)
    good = run.task.arrays()["out.bias"].copy()
    with torch.no_grad():
        run.task.model.decoder.out.bias[0] = float("nan")  # what a too-large step does
    snap = run.step(1)
    assert snap.status == "paused"
    assert "NaN" in snap.message and "lower the learning rate" in snap.message
    assert snap.step == 3
    np.testing.assert_array_equal(run.task.arrays()["out.bias"], good)
    run.close()



@pytest.mark.skipif(not (SHARED / "frey").exists(), reason="Frey faces not in ../shared/data")
def test_a_pretrained_start_trains_on_from_the_checkpoint(monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(SHARED))
    shipped, extra = VAE.load(PRETRAINED["frey"])
    run = Run(VAETask(), MANIFOLD_PARAMS.complete({"dataset": "frey", "lr": 1e-4}))
    model = run.task.model
    assert run.task.source.startswith("pretrained frey_z2") and model.config == shipped.config
    assert all(torch.equal(p, q.float()) for p, q in zip(model.state_dict().values(), shipped.state_dict().values()))
    run.step(50)
    elbo = mean_elbo(model, heldout_rows(run.task.data), seed=0)["elbo"]
    assert abs(elbo - extra["test_elbo"]) < 15  # trained on, not restarted (random weights start hundreds of nats lower)
    scratch = Run(VAETask(), MANIFOLD_PARAMS.complete({"dataset": "frey", "start": "scratch", "lr": 1e-4}))
    scratch.step(50)
    assert mean_elbo(scratch.task.model, heldout_rows(scratch.task.data), seed=0)["elbo"] < extra["test_elbo"] - 100
