"""Every `--json` line of every command (train, eval, bench of every family; data list) is strict JSON: no
Infinity, -Infinity or NaN, which strict parsers refuse. The DBM and RBM commands flag a degenerate AIS run."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from lab import cli
from tests.engine.test_data import SHARED

MNIST = SHARED / "mnist" / "t10k-images-idx3-ubyte.gz"
needs_mnist = pytest.mark.skipif(not MNIST.exists(), reason="../shared/data (MNIST) is absent")


def strict_loads(text: str) -> object:
    """json.loads that refuses the non-standard constants Python's json writes by default."""

    def refuse(name: str) -> None:
        raise ValueError(f"not strict JSON: {name} in {text[:200]}")

    return json.loads(text, parse_constant=refuse)


def run(argv: list[str]) -> tuple[dict, str]:
    """Run ``genlab ARGV --json`` in-process: the strictly parsed JSON of its last line, and its stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([*argv, "--json"])
    assert code == 0, err.getvalue()[-2000:]
    return strict_loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


TRAIN = {
    "rbm": ["--dataset", "bars-stripes", "--hidden", "8", "--epochs", "20", "--batch-size", "10"],
    "dbm": ["--dataset", "bars-stripes", "--n1", "10", "--n2", "6", "--greedy-epochs", "5", "--joint-epochs", "5", "--batch-size", "10", "--n-chains", "20"],
    "gan": ["--data", "ring", "--steps", "20", "--width-g", "8", "--width-d", "8"],
    "gsn": ["--architecture", "dae", "--dataset", "digits", "--hidden", "16", "--epochs", "1", "--batch-size", "50"],
    "vae": ["--dataset", "digits", "--hidden", "16", "--epochs", "0.2"],
}  # fmt: skip

EVAL = {
    "rbm": ["--ais", "--exact", "--betas", "100", "--chains", "20"],
    "dbm": ["--n", "30", "--mf-iterations", "5", "--ais-chains", "20", "--ais-betas", "10"],
    "gan": ["--samples", "200"],
    "gsn": ["--n-images", "20", "--chain-steps", "2", "--parzen-samples", "20", "--burn-in", "2", "--inpaint", "top"],
    "vae": ["--n", "20", "--ks", "1", "5"],
}  # fmt: skip

EVAL_WITHOUT_CHECKPOINT = {"inference": ["--page", "all"]}
"""Families whose ``eval`` re-computes exact checks and reads no checkpoint."""

BENCH = {
    "rbm": ["--data-root", str(SHARED), "--epochs", "1", "--repeats", "1", "--threads", "1"],
    "dbm": ["--hidden", "20,10", "--seconds", "0.05", "--device", "cpu"],
    "gan": ["--steps", "30", "--frames", "3"],
    "gsn": ["--seconds", "0.05", "--chains", "10"],  # --path: the trained DAE, added below
    "vae": ["--epochs", "1", "--repeats", "1", "--frames", "2", "--data-root", str(SHARED)],
}
BENCH_NEEDS_MNIST = {"rbm", "vae"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """One tiny checkpoint per family and the JSON its `genlab train FAMILY --json` printed (strictly parsed)."""
    os.environ.setdefault("GENLAB_THREADS", "1")
    root = tmp_path_factory.mktemp("strict_json")
    return {family: (root / family, run(["train", family, *argv, "--out", str(root / family)])[0]) for family, argv in TRAIN.items()}


def test_every_command_of_every_family_is_covered_here():
    commands = {(verb, name) for name, module in cli.families().items() for verb, (adder, _) in cli.VERBS.items() if hasattr(module, adder)}
    covered = {("train", f) for f in TRAIN} | {("eval", f) for f in (*EVAL, *EVAL_WITHOUT_CHECKPOINT)} | {("bench", f) for f in BENCH}
    assert commands == covered


@pytest.mark.parametrize("family", sorted(TRAIN))
def test_train_json_is_strict(family, trained):
    path, result = trained[family]
    assert isinstance(result, dict) and str(path) in json.dumps(result)


@pytest.mark.parametrize("family", sorted(EVAL))
def test_eval_json_is_strict(family, trained):
    result, _ = run(["eval", family, str(trained[family][0]), *EVAL[family]])
    assert isinstance(result, dict) and result


@pytest.mark.parametrize("family", sorted(EVAL_WITHOUT_CHECKPOINT))
def test_eval_without_a_checkpoint_json_is_strict(family):
    result, _ = run(["eval", family, *EVAL_WITHOUT_CHECKPOINT[family]])
    assert isinstance(result, dict) and result


@pytest.mark.parametrize("family", sorted(BENCH))
def test_bench_json_is_strict(family, trained, monkeypatch):
    if family in BENCH_NEEDS_MNIST and not MNIST.exists():
        pytest.skip("../shared/data (MNIST) is absent")
    if family == "rbm":  # one epoch is 9,000 MNIST rows (thrice) and the roofline 32 products of 2048 x 2048: shrink both
        import lab.rbm.bench

        load, roofline = lab.rbm.bench.load_rbm_data, lab.rbm.bench.matmul_gflops
        monkeypatch.setattr(lab.rbm.bench, "load_rbm_data", lambda *a, **k: dataclasses.replace(data := load(*a, **k), train=data.train[:500]))
        monkeypatch.setattr(lab.rbm.bench, "matmul_gflops", lambda device: roofline(device, n=256, repeats=2))
    extra = ["--path", str(trained["gsn"][0])] if family == "gsn" else []
    result, _ = run(["bench", family, *BENCH[family], *extra])
    assert isinstance(result, dict) and result


def test_data_list_json_is_strict_and_says_what_is_present(tmp_path):
    result, _ = run(["data", "list", "--root", str(tmp_path)])
    assert result["root"] == str(tmp_path)
    assert result["datasets"]["mnist"]["t10k-images-idx3-ubyte.gz"] is False
    assert result["datasets"]["bars-stripes"] is None  # generated: no files


def test_infinite_and_nan_numbers_become_null_at_any_depth():
    value = {"a": math.inf, "b": [1.5, -math.inf, {"c": math.nan, "d": (np.float32("inf"), np.float64(2.0))}], "e": torch.tensor(float("nan")),
             "f": "inf", "g": 3, "h": None, "i": True}  # fmt: skip
    assert strict_loads(cli.json_line(value)) == {"a": None, "b": [1.5, None, {"c": None, "d": [None, 2.0]}], "e": None, "f": "inf", "g": 3, "h": None, "i": True}
    assert cli.finite_or_null([math.nan, math.inf, -math.inf, 0.0]) == [None, None, None, 0.0]


@needs_mnist
def test_dbm_eval_flags_a_degenerate_ais_run_in_the_json_and_on_stderr():
    """10 temperatures for the shipped MNIST DBM: a few chains carry all the weight."""
    argv = ["eval", "dbm", "assets/dbm/mnist", "--n", "20", "--mf-iterations", "5", "--ais-chains", "100", "--ais-betas", "10", "--data-root", str(SHARED)]
    result, err = run(argv)
    assert result["log_z"]["betas"] == 10 and result["log_z"]["ess"] < 10
    assert result["log_z"]["degenerate"] is True
    assert result["log_z"]["low"] is None and result["test_lower_bound"]["high"] is None  # mean weight - 3 s.e. < 0: log of it is -inf
    assert "warning: AIS is degenerate" in err and "use more --ais-betas (now 10)" in err


def test_dbm_eval_does_not_flag_an_ais_run_whose_weights_are_spread(trained):
    result, err = run(["eval", "dbm", str(trained["dbm"][0]), "--n", "30", "--ais-chains", "100", "--ais-betas", "10"])
    assert result["log_z"]["ess"] >= 10 and result["log_z"]["degenerate"] is False
    assert "warning" not in err


def test_rbm_eval_reports_whether_ais_is_degenerate(trained):
    result, err = run(["eval", "rbm", str(trained["rbm"][0]), "--ais", "--betas", "100", "--chains", "20"])
    assert result["ais"]["effective_sample_size"] >= 2 and result["ais"]["degenerate"] is False
    assert "warning" not in err
