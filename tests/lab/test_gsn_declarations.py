"""The GSN lab's parameters are declared once (engine.tasks.gsn.TRAIN_PARAMS, clamped_chain_params,
free_chain_params): the pages' widgets, `genlab train gsn`'s options and the Run's checks all come from
them, so the training page and the CLI train the same DAE or GSN from the same settings."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from functools import partial
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from engine import checkpoint
from engine.models.gsn import load_model
from engine.run import RUNNING, Run
from engine.tasks.gsn import ASSETS, PRETRAINED, TRAIN_PARAMS, GSNTrainTask
from lab import cli
from lab.commands import drive, params_from
from lab.controls import widget_help, widget_label
from tests.lab.cli_parsing import parse_train, train_command

ROOT = Path(__file__).resolve().parents[2]
TRAINING_PAGE = str(ROOT / "pages" / "gsn_training.py")
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


parse = partial(parse_train, "gsn")


def digits_page(architecture: str = "dae") -> AppTest:
    """The training page on the 8x8 digits from scratch, with a small net (16 hidden units, 8 in h2)."""
    at = AppTest.from_file(TRAINING_PAGE, default_timeout=120).run()
    at.radio(key="gsn.train.start").set_value("scratch")
    at.radio(key="gsn.train.dataset").set_value("digits")
    at.radio(key="gsn.train.architecture").set_value(architecture).run()
    at.select_slider(key="gsn.train.hidden").set_value(16)
    if architecture == "gsn":
        at.select_slider(key="gsn.train.hidden2").set_value(16)
    at.run()
    assert not at.exception
    return at


def page_params(at: AppTest) -> dict:
    """The parameters the page sends its Run: its widgets' values completed by the declarations (as the page does)."""
    shown = {p.name: at.session_state[f"gsn.train.{p.name}"] for p in TRAIN_PARAMS if f"gsn.train.{p.name}" in at.session_state}
    return TRAIN_PARAMS.complete(shown)


def test_each_declaration_becomes_a_widget_with_its_range_default_and_help():
    at = digits_page("gsn")
    walkback, hidden_noise = at.slider(key="gsn.train.walkback"), at.slider(key="gsn.train.hidden_noise")
    assert (walkback.min, walkback.max, walkback.value, walkback.step) == (1, 20, 4, 1)
    assert walkback.label == widget_label(TRAIN_PARAMS["walkback"]) == "Walkback steps k"
    assert walkback.help == widget_help(TRAIN_PARAMS["walkback"]) and "between 1 and 20" in walkback.help
    assert (hidden_noise.min, hidden_noise.max, hidden_noise.value) == (0.0, 5.0, 0.1) and "before and after its sigmoid" in hidden_noise.help
    lr = at.select_slider(key="gsn.train.lr")
    assert lr.value == 1e-3 and list(lr.options) == [f"{t:g}" for t in TRAIN_PARAMS["lr"].ticks]
    assert at.select_slider(key="gsn.train.hidden").label == "Hidden units n_h · on Reset"
    noise = at.slider(key="gsn.train.noise")
    assert (noise.min, noise.max, noise.value) == (0.0, 1.0, 0.3)  # a probability for salt-and-pepper corruption
    at.radio(key="gsn.train.corruption").set_value("gaussian").run()
    assert at.slider(key="gsn.train.noise").max == 3.0  # a standard deviation for Gaussian corruption
    assert TRAIN_PARAMS["noise"].high == 3.0


@pytest.mark.skipif(not (SHARED / "mnist").exists(), reason="the chain pages need MNIST in ../shared/data")
def test_the_chain_pages_widgets_come_from_their_declarations(monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(SHARED))
    at = AppTest.from_file(str(ROOT / "pages" / "gsn_clamped.py"), default_timeout=120).run()
    region = at.selectbox(key="gsn.clamped.region")
    assert region.options == ["keep the right half", "keep the left half", "keep the top half", "keep the bottom half",
                              "fill a centred square", "keep the pixels I paint"]  # fmt: skip
    assert region.value == "right" and region.label == "Clamp · on Reset"
    model = at.selectbox(key="gsn.clamped.model_name")
    assert model.value == "dae_walkback" and model.options[0] == "DAE, walkback training (k = 4)"
    steps = at.slider(key="gsn.clamped.chain_steps")
    assert (steps.min, steps.max, steps.value) == (1, 20, 1)
    at.number_input(key="gsn.clamped.first").set_value(2000).run()  # 2000 held-out digits: indices 0..1999
    assert any("first must be below the number of held-out images (2000)" in e.value for e in at.error)
    at = AppTest.from_file(str(ROOT / "pages" / "gsn_chain.py"), default_timeout=120).run()
    n = at.select_slider(key="gsn.chain.n_chains")
    assert n.value == 36 and list(n.options) == ["16", "36", "64"]


def test_the_cli_option_refuses_a_value_out_of_range_with_the_declarations_message(capsys):
    with pytest.raises(SystemExit):
        parse("--walkback", "0")
    assert "argument --walkback: walkback must be between 1 and 20, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse("--corruption", "pepper")
    assert "corruption must be one of 'salt_pepper', 'gaussian', 'masking', got 'pepper'" in capsys.readouterr().err
    help_text = train_command("gsn").format_help()
    for p in TRAIN_PARAMS:
        assert (("--" + p.name.replace("_", "-")) in help_text) is (p.name != "start"), p.name
    for shared in ("--data-root", "--batch-size", "--seed", "--out"):
        assert shared in help_text


@pytest.mark.parametrize("architecture", ["dae", "gsn"])
def test_the_page_and_the_cli_train_bit_identical_models_from_the_same_settings(architecture):
    at = digits_page(architecture)
    size = ["--hidden", "16"] + (["--hidden2", "16"] if architecture == "gsn" else [])
    cli_params = params_from(parse("--architecture", architecture, "--dataset", "digits", *size), TRAIN_PARAMS, start="scratch")
    params = page_params(at)
    assert params == cli_params
    expected = "random start, 16 hidden units" if architecture == "dae" else "random start, 16-16 hidden units"
    assert any(f"Model: **{expected}**" in c.value for c in at.caption)
    page_run = Run(GSNTrainTask(), params)
    page_run.step(20)
    cli_task = GSNTrainTask()
    drive(cli_task, cli_params, 20, "test")
    page_model = dict(page_run.task.trainer.model.named_parameters())
    for name, tensor in cli_task.trainer.model.named_parameters():
        assert torch.equal(tensor, page_model[name]), name
    page_run.close()


def test_an_out_of_range_change_to_a_playing_run_is_refused_and_the_run_keeps_its_old_value():
    run = Run(GSNTrainTask(), {"architecture": "dae", "dataset": "digits", "start": "scratch", "hidden": 16, "lr": 3e-3})
    run.start()
    try:
        with pytest.raises(ValueError, match=r"lr must be between 1e-05 and 0\.1, got 0\.5"):
            run.update_params(lr=0.5)
        with pytest.raises(ValueError, match="noise level for salt_pepper corruption must be between 0 and 1, got 2.0"):
            run.update_params(noise=2.0)  # in the declared range (a Gaussian std), not for this corruption
        assert (run.params["lr"], run.params["noise"], run.status) == (3e-3, 0.3, RUNNING)
        before = run.snapshot().step
        deadline = time.monotonic() + 30
        while run.snapshot().step <= before + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run.snapshot().step > before + 2
        assert run.task.trainer.optimizer.param_groups[0]["lr"] == 3e-3
    finally:
        run.close()


@pytest.mark.parametrize("name", PRETRAINED)
def test_the_shipped_chains_read_through_the_one_schema(name):
    ckpt = checkpoint.read(ASSETS / name, "gsn")
    assert ckpt.config["model"] == ("gsn" if name == "gsn" else "dae") and (ckpt.config["height"], ckpt.config["width"]) == (28, 28)
    assert ckpt.extra["dataset"] == "mnist" and ckpt.extra["title"] and ckpt.extra["training"]["batch_size"] == 100
    model, extra = load_model(ASSETS / name)
    assert extra == ckpt.extra and model.config.walkback == ckpt.config["walkback"] == (1 if name == "dae_onestep" else 4)


def test_a_checkpoint_written_by_the_cli_reads_back(tmp_path):
    out = tmp_path / "small"
    argv = ["train", "gsn", "--architecture", "gsn", "--dataset", "digits", "--hidden", "16", "--hidden2", "8", "--walkback", "2",
            "--epochs", "0.2", "--seed", "3", "--out", str(out), "--json"]  # fmt: skip
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main(argv) == 0
    result = json.loads(printed.getvalue().strip().splitlines()[-1])
    ckpt = checkpoint.read(out, "gsn")
    assert ckpt.config == {"model": "gsn", "height": 8, "width": 8, "n_hidden1": 16, "n_hidden2": 8, "corruption": "salt_pepper",
                           "noise": 0.3, "hidden_noise": 0.1, "walkback": 2}  # fmt: skip
    training = ckpt.extra["training"]
    assert training["trained_steps"] == result["steps"] and training["seed"] == 3 and training["start"] == "scratch"
    assert TRAIN_PARAMS.complete({k: v for k, v in training.items() if k != "trained_steps"}) == params_from(
        parse(*argv[2:-3]), TRAIN_PARAMS, start="scratch")  # fmt: skip
    model, _ = load_model(out)
    assert model.W1.shape == (64, 16) and model.W2.shape == (16, 8)
