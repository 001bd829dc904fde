"""The RBM's parameters are declared once (engine.tasks.rbm.TRAIN_PARAMS): the page's widgets, the
CLI's options and the Run's checks all come from that list, so the page and `genlab train rbm`
train the same model from the same settings."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from engine.tasks.rbm import TRAIN_PARAMS, RBMTrainTask
from lab.commands import drive, params_from
from lab.controls import widget_help, widget_label
from tests.lab.cli_parsing import parse_train, train_command

ROOT = Path(__file__).resolve().parents[2]
RBM_PAGE = str(ROOT / "pages" / "rbm.py")


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


parse = partial(parse_train, "rbm")


def digits_page() -> AppTest:
    at = AppTest.from_file(RBM_PAGE, default_timeout=120).run()
    at.radio(key="rbm.dataset").set_value("digits")
    at.radio(key="rbm.start").set_value("scratch").run()
    at.button(key="rbm.reset").click().run()
    assert not at.exception
    return at


def test_each_declaration_becomes_a_widget_with_its_range_default_and_help():
    at = digits_page()
    momentum, k = at.slider(key="rbm.momentum"), at.slider(key="rbm.k")
    assert (momentum.min, momentum.max, momentum.value, momentum.label) == (0.0, 0.95, 0.5, widget_label(TRAIN_PARAMS["momentum"]))
    assert (k.min, k.max, k.value, k.step) == (1, 25, 1, 1)
    assert momentum.help == widget_help(TRAIN_PARAMS["momentum"]) and "between 0 and 0.95" in momentum.help
    lr = at.select_slider(key="rbm.lr")
    assert lr.value == TRAIN_PARAMS["lr"].per_dataset["digits"] and list(lr.options) == [f"{t:g}" for t in TRAIN_PARAMS["lr"].ticks]
    assert at.select_slider(key="rbm.hidden").label == "Hidden units n_h · on Reset"
    assert at.toggle(key="rbm.centering").value is False


def test_the_cli_option_refuses_a_value_out_of_range_with_the_declarations_message(capsys):
    with pytest.raises(SystemExit):
        parse("--momentum", "2")
    assert "argument --momentum: momentum must be between 0 and 0.95, got 2.0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse("--method", "gibbs")
    assert "method must be one of 'cd', 'pcd', got 'gibbs'" in capsys.readouterr().err
    help_text = train_command("rbm").format_help()
    for p in TRAIN_PARAMS:
        if p.name != "start":
            assert "--" + p.name.replace("_", "-") in help_text


def test_the_page_and_the_cli_train_bit_identical_models_from_the_same_settings():
    at = digits_page()
    page_run = at.session_state["shared.rbm.train"]
    cli_params = params_from(parse("--dataset", "digits"), TRAIN_PARAMS, start="scratch")
    assert dict(page_run.params) == cli_params
    page_run.step(20)
    cli_task = RBMTrainTask()
    drive(cli_task, cli_params, 20, "test")
    page_model = page_run.task.rbm.parameters()
    for name, tensor in cli_task.rbm.parameters().items():
        assert torch.equal(tensor, page_model[name]), name
    page_run.close()


def test_a_parameter_declared_in_one_line_is_on_the_page_in_the_url_in_the_cli_and_checked(capsys):
    """init_std was added as one Param line in TRAIN_PARAMS (and its one use in reset); nothing else names it."""
    declared = TRAIN_PARAMS["init_std"]
    at = AppTest.from_file(RBM_PAGE, default_timeout=120)
    at.query_params["rbm.dataset"] = "digits 8x8"  # the URL carries the choice's label
    at.query_params["rbm.start"] = "scratch"
    at.query_params["rbm.init_std"] = "0.1"
    at.run()
    widget = at.select_slider(key="rbm.init_std")
    assert widget.label == widget_label(declared) == "Initial weight scale σ_W · on Reset" and widget.help == widget_help(declared)
    assert widget.value == 0.1 and list(widget.options) == [f"{t:g}" for t in declared.ticks]
    run = at.session_state["shared.rbm.train"]
    assert run.params["init_std"] == 0.1
    assert float(run.task.rbm.W.std()) == pytest.approx(0.1, rel=0.05)  # W ~ N(0, 0.1^2) on 64 x 100 weights
    run.close()
    assert "--init-std FLOAT" in train_command("rbm").format_usage()
    with pytest.raises(SystemExit):
        parse("--init-std", "5")
    assert "init_std must be between 0.0001 and 1, got 5.0" in capsys.readouterr().err
    assert params_from(parse("--init-std", "0.03"), TRAIN_PARAMS)["init_std"] == 0.03
