"""`genlab train|eval|bench dbm`: a tiny DBM on bars and stripes end to end, JSON with the mean-field trace, bad input refused."""

from __future__ import annotations

import json
import math
import os

import pytest

from lab import cli


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def error_line(capsys) -> str:
    return next(line for line in capsys.readouterr().err.splitlines() if line.startswith("error:"))


def test_train_then_eval_prints_the_mean_field_trace_and_the_ais_bound(tmp_path, capsys):
    out = tmp_path / "bs"
    assert cli.main(["train", "dbm", "--dataset", "bars-stripes", "--n1", "10", "--n2", "6", "--greedy-epochs", "60", "--joint-epochs", "60",
                     "--batch-size", "10", "--n-chains", "20", "--rbm-lr", "0.1", "--lr", "0.05", "--weight-decay", "0", "--out", str(out), "--json"]) == 0  # fmt: skip
    trained = last_json(capsys)
    assert trained["sizes"] == [16, 10, 6] and trained["updates"] == 3 * 60 * 3
    assert cli.main(["eval", "dbm", str(out), "--n", "30", "--mf-iterations", "15", "--ais-chains", "20", "--ais-betas", "300", "--json"]) == 0
    result = last_json(capsys)
    assert len(result["mf_bound"]) == 16 and len(result["mf_change"]) == 15
    assert all(b2 >= b1 - 1e-4 for b1, b2 in zip(result["mf_bound"], result["mf_bound"][1:]))
    bound = result["test_lower_bound"]
    assert bound["scheme"] == "fixed" and bound["n"] == 30
    assert -16 * math.log(2) < bound["mean"] < -math.log(30)  # better than uniform pixels, below log(1/30) of the 30 patterns
    assert result["binarization"] == "fixed (seed 0)"


def test_bad_sizes_are_refused_with_a_message(tmp_path, capsys):
    for flag, value, message in (("--n1", "0", "n1 must be between 1 and 4096, got 0"), ("--n3", "8.5", "n3 must be between 0 and 4096, got '8.5'"),
                                 ("--mf-iterations", "0", "mf_iterations must be between 1 and 50, got 0"), ("--greedy-epochs", "-1", "epochs must be between 0 and 10000, got -1")):  # fmt: skip
        with pytest.raises(SystemExit):
            cli.main(["train", "dbm", "--dataset", "bars-stripes", flag, value, "--out", str(tmp_path / "x")])
        assert f"argument {flag}: {message}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_bench_compares_with_numpy(capsys):
    assert cli.main(["bench", "dbm", "--hidden", "20,10", "--seconds", "0.05", "--device", "cpu", "--json"]) == 0
    result = last_json(capsys)["results"]["cpu"]
    for key in ("mean_field_iterations_per_s", "numpy_mean_field_iterations_per_s", "joint_training_examples_per_s", "numpy_joint_training_examples_per_s"):
        assert result[key] > 0


def test_a_diverging_run_stops_with_a_message_and_saves_nothing(tmp_path, capsys, monkeypatch):
    # the declaration refuses --lr > 1 (and nothing in range diverged on digits): widen it to force a real overflow
    from dataclasses import replace

    import lab.dbm.command as command
    from engine.tasks.dbm import TRAINING_PARAMS, DBMTrainingTask

    wide = TRAINING_PARAMS.replace(lr=replace(TRAINING_PARAMS["lr"], high=1e40))
    monkeypatch.setattr(command, "TRAINING_PARAMS", wide)
    monkeypatch.setattr(DBMTrainingTask, "PARAMS", wide)
    out = tmp_path / "nan"
    code = cli.main(["train", "dbm", "--dataset", "digits", "--n1", "10", "--n2", "6", "--greedy-epochs", "0.2", "--joint-epochs", "1",
                     "--lr", "1e38", "--n-chains", "10", "--no-inference-net", "--out", str(out)])  # fmt: skip
    message = error_line(capsys)
    assert code == 1
    assert message.startswith("error: training diverged at step ") and " became NaN or Inf" in message
    assert message.endswith(f"; {DBMTrainingTask.divergence_hint}") and "lr in joint training" in message
    assert list(tmp_path.iterdir()) == []


def test_a_nan_in_greedy_pretraining_stops_at_that_update(tmp_path, capsys, monkeypatch):
    from engine.models.dbm_training import GreedyStack

    original = GreedyStack.step

    def corrupt(self, layer, v, config):
        original(self, layer, v, config)
        if layer == 2:
            self.rbms[1].rbm.c[0] = float("nan")

    monkeypatch.setattr(GreedyStack, "step", corrupt)
    out = tmp_path / "nan"
    code = cli.main(["train", "dbm", "--dataset", "digits", "--n1", "10", "--n2", "6", "--greedy-epochs", "0.2", "--joint-epochs", "1", "--out", str(out)])
    message = error_line(capsys)
    assert code == 1  # 0.2 epochs of 15 batches: 3 updates of RBM 1, then the first of RBM 2 diverges
    assert message.startswith("error: training diverged at step 4: rbm2_reconstruction became NaN or Inf; lower the learning rate of the phase that diverged (rbm_lr in greedy")
    assert list(tmp_path.iterdir()) == []
