"""Parameter declarations (engine.params) and the Run that checks every change against them."""

from __future__ import annotations

import time

import pytest

from engine.params import LIVE, RESET, Param, Params
from engine.run import RUNNING, Run
from engine.tasks.rbm import TRAIN_PARAMS, RBMTrainTask

DECL = Params(
    Param("dataset", "a", str, choices=("a", "b"), when=RESET),
    Param("lr", 0.01, float, 1e-4, 1.0, per_dataset={"b": 0.1}, symbol="ε", label="Learning rate"),
    Param("k", 1, int, 1, 25, step=1),
    Param("beta", 1.0, float, 0.0, 10.0, low_open=True),
    Param("on", False, bool),
)


def test_defaults_depend_on_the_dataset_and_values_are_coerced():
    assert DECL.defaults() == {"dataset": "a", "lr": 0.01, "k": 1, "beta": 1.0, "on": False}
    assert DECL.defaults("b")["lr"] == 0.1
    full = DECL.complete({"dataset": "b", "k": 3.0})
    assert full == {"dataset": "b", "lr": 0.1, "k": 3, "beta": 1.0, "on": False} and type(full["k"]) is int
    assert DECL.acting(RESET) == ("dataset",) and DECL.acting(LIVE) == ("lr", "k", "beta", "on")
    assert DECL["lr"].title == "Learning rate ε"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"lr": 5.0}, "lr must be between 0.0001 and 1, got 5.0"),
        ({"k": 1.5}, "k must be a whole number between 1 and 25, got 1.5"),
        ({"beta": 0.0}, r"beta must be in \(0, 10\], got 0.0"),
        ({"dataset": "c"}, "dataset must be one of 'a', 'b', got 'c'"),
        ({"on": 1}, "on must be true or false, got 1"),
        ({"lr": True}, "lr must be a number"),
        ({"lr": float("nan")}, "lr must be between"),
        ({"gamma": 1}, "unknown parameter gamma; declared: dataset, lr, k, beta, on"),
    ],
)
def test_a_value_outside_its_declaration_is_refused_with_name_value_and_range(values, message):
    with pytest.raises(ValueError, match=message):
        DECL.check(values)


def test_a_declaration_whose_default_is_out_of_range_is_refused():
    with pytest.raises(ValueError, match="lr must be between 0 and 1, got 2"):
        Param("lr", 2, float, 0.0, 1.0)
    with pytest.raises(ValueError, match="declared twice: k"):
        Params(Param("k", 1, int, 1, 2), Param("k", 1, int, 1, 2))


def test_an_out_of_range_change_to_a_running_run_raises_and_the_run_keeps_its_old_value():
    run = Run(RBMTrainTask(), {"dataset": "bars-stripes", "start": "scratch"})
    assert run.params == TRAIN_PARAMS.defaults("bars-stripes") | {"start": "scratch"}
    run.start()
    try:
        with pytest.raises(ValueError, match="momentum must be between 0 and 0.95, got 2.0"):
            run.update_params(lr=0.1, momentum=2.0)
        step = run.snapshot().step
        time.sleep(0.5)
        assert run.status == RUNNING and run.snapshot().step > step
        assert run.params["momentum"] == 0.5 and run.params["lr"] == 0.05  # neither change applied
    finally:
        run.close()
