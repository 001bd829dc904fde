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
    assert cli.main(["train", "dbm", "--dataset", "bars-stripes", "--hidden", "10,6", "--greedy-epochs", "60", "--joint-epochs", "60",
                     "--batch-size", "10", "--chains", "20", "--rbm-lr", "0.1", "--lr", "0.05", "--weight-decay", "0", "--out", str(out), "--json"]) == 0  # fmt: skip
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
    assert cli.main(["train", "dbm", "--dataset", "bars-stripes", "--hidden", "0,4", "--out", str(tmp_path / "x")]) == 1
    assert "n1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "dbm", "--hidden", "8", "--out", str(tmp_path / "x")])
    assert cli.main(["train", "dbm", "--dataset", "bars-stripes", "--hidden", "8,4", "--mf-iterations", "0", "--out", str(tmp_path / "x")]) == 1
    assert "mean-field iterations" in capsys.readouterr().err


def test_bench_compares_with_numpy(capsys):
    assert cli.main(["bench", "dbm", "--hidden", "20,10", "--seconds", "0.05", "--device", "cpu", "--json"]) == 0
    result = last_json(capsys)["results"]["cpu"]
    for key in ("mean_field_iterations_per_s", "numpy_mean_field_iterations_per_s", "joint_training_examples_per_s", "numpy_joint_training_examples_per_s"):
        assert result[key] > 0


def test_a_diverging_run_stops_with_a_message_and_saves_nothing(tmp_path, capsys, monkeypatch):
    # the CLI refuses --lr > 1 (and nothing in range diverged on digits): lift that check to force a real overflow
    from engine.models.dbm_training import JointConfig

    monkeypatch.setattr(JointConfig, "check", lambda self: None)
    out = tmp_path / "nan"
    code = cli.main(["train", "dbm", "--dataset", "digits", "--hidden", "10,6", "--greedy-epochs", "0.2", "--joint-epochs", "1",
                     "--lr", "1e38", "--chains", "10", "--no-inference-net", "--out", str(out)])  # fmt: skip
    message = error_line(capsys)
    assert code == 1
    assert message.startswith("error: training diverged at update ") and "(joint)" in message
    assert " became NaN" in message or " became Inf" in message
    assert "lower --lr (now 1e+38)" in message
    assert not out.with_suffix(".safetensors").exists() and not out.with_suffix(".json").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_nan_in_greedy_pretraining_names_the_rbm_parameter(tmp_path, capsys, monkeypatch):
    from engine.models.dbm_training import GreedyStack

    original = GreedyStack.step

    def corrupt(self, layer, v, config):
        original(self, layer, v, config)
        if layer == 2:
            self.rbms[1].rbm.c[0] = float("nan")

    monkeypatch.setattr(GreedyStack, "step", corrupt)
    out = tmp_path / "nan"
    code = cli.main(["train", "dbm", "--dataset", "digits", "--hidden", "10,6", "--greedy-epochs", "0.2", "--joint-epochs", "1", "--out", str(out)])
    message = error_line(capsys)
    assert code == 1
    assert message.startswith("error: training diverged at update 4 (greedy RBM 2): parameter rbm2.c became NaN; lower --rbm-lr (now 0.05)")
    assert list(tmp_path.iterdir()) == []
