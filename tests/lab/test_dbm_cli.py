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
