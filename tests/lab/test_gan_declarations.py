"""The GANs' parameters are declared once (engine.tasks.gan: GAN2D_PARAMS, MNIST_PARAMS, GAME_PARAMS,
DIRAC_PARAMS): the pages' widgets, `genlab train gan`'s options and the Run's checks all come from
them, so a page and the CLI train the same model from the same settings."""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from engine import checkpoint
from engine.data import load
from engine.models import gan, gan_mnist
from engine.run import RUNNING, Run
from engine.tasks.gan import DIRAC_PARAMS, GAN2D_PARAMS, MNIST_PARAMS, GAN2DTask, MnistGANTask, read_pretrained
from lab.cli import main
from lab.commands import drive, params_from
from lab.controls import widget_help, widget_label
from lab.gan.command import CLI_PARAMS
from tests.lab.cli_parsing import parse_train, train_command

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "pages"
SHARED = ROOT.parent / "shared" / "data"
needs_mnist = pytest.mark.skipif(not (SHARED / "mnist").exists(), reason="MNIST test files not in ../shared/data")


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))
    monkeypatch.setenv("GENLAB_DATA", str(SHARED))


parse = partial(parse_train, "gan")


def page(script: str, timeout: float = 90) -> AppTest:
    at = AppTest.from_file(str(PAGES / script), default_timeout=timeout).run()
    assert not at.exception, at.exception
    return at


def test_each_declaration_becomes_a_widget_with_its_range_default_and_help():
    at = page("gan_2d.py")
    k = at.slider(key="gan2d.d_steps")
    assert (k.min, k.max, k.value, k.step, k.label) == (1, 20, 1, 1, widget_label(GAN2D_PARAMS["d_steps"]))
    assert k.help == widget_help(GAN2D_PARAMS["d_steps"]) and "between 1 and 20" in k.help
    lr = at.select_slider(key="gan2d.lr_d")
    assert lr.value == 1e-3 and list(lr.options) == [f"{t:g}" for t in GAN2D_PARAMS["lr_d"].ticks] and lr.label == "Learning rate of D η_D"
    assert at.slider(key="gan2d.depth_g").max == 6 and at.select_slider(key="gan2d.batch_size").value == 128
    assert at.radio(key="gan2d.optimizer").options == ["Adam", "SGD"]
    game = page("gan_game.py")
    r1 = game.slider(key="dirac.r1")
    assert (r1.min, r1.max, r1.value, r1.step) == (0.0, 2.0, 0.0, 0.1) and r1.help == widget_help(DIRAC_PARAMS["r1"])
    assert game.selectbox(key="dirac.loss").options == ["minimax", "non-saturating", "WGAN (no clipping)"]


@needs_mnist
def test_the_mnist_page_marks_what_acts_on_reset():
    at = page("gan_mnist.py")
    width = at.select_slider(key="ganm.width")
    assert width.label == "Hidden width · on Reset" and width.value == MNIST_PARAMS["width"].default == 256
    assert "Acts when you press Reset." in width.help and "between 4 and 1024 units" in width.help
    assert at.select_slider(key="ganm.lr_g").value == 2e-4 and at.select_slider(key="ganm.batch_size").value == 64


def test_the_cli_option_refuses_a_value_out_of_range_with_the_declarations_message(capsys):
    with pytest.raises(SystemExit):
        parse("--d-steps", "21")
    assert "argument --d-steps: d_steps must be between 1 and 20, got 21" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse("--loss", "hinge")
    assert "loss must be one of 'minimax', 'nonsaturating', 'leastsquares', 'wgan-gp', got 'hinge'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse("--width", "2")
    assert "width must be between 4 and 1024 units, got 2" in capsys.readouterr().err
    help_text = train_command("gan").format_help()
    declared = {p.name for p in (*GAN2D_PARAMS, *MNIST_PARAMS) if p.cli} - {"data", "start"}
    assert declared == set(CLI_PARAMS.names)
    for name in declared:
        assert "--" + name.replace("_", "-") in help_text
    assert "--data {ring,grid,spiral,moons,gaussian,mnist}" in help_text and "with --data mnist: default 0.0002" in help_text


def test_the_2d_page_and_the_cli_train_bit_identical_models_from_the_same_settings():
    at = page("gan_2d.py")
    at.select_slider(key="gan2d.width_g").set_value(16)
    at.select_slider(key="gan2d.width_d").set_value(32)
    at.select_slider(key="gan2d.batch_size").set_value(32)
    at.select_slider(key="gan2d.lr_g").set_value(3e-3)
    at.number_input(key="gan2d.seed").set_value(3).run()
    at.button(key="gan2d.reset").click().run()
    assert not at.exception
    page_params = GAN2D_PARAMS.complete({name: at.session_state[f"gan2d.{name}"] for name in GAN2D_PARAMS.names if f"gan2d.{name}" in at.session_state})
    page_run = Run(GAN2DTask(), page_params)  # the page's task under a Run, with what the page's widgets hold
    cli_params = params_from(parse("--width-g", "16", "--width-d", "32", "--batch-size", "32", "--lr-g", "0.003", "--seed", "3"), GAN2D_PARAMS, data="ring")
    assert dict(page_run.params) == cli_params
    page_run.step(20)
    cli_task = GAN2DTask()
    drive(cli_task, cli_params, 20, "test")
    page_model = page_run.task.trainer.model.state_dict()
    assert page_run.task.trainer.steps == cli_task.trainer.steps == 20 and page_model["G.0.weight"].shape == (16, 2)
    for name, tensor in cli_task.trainer.model.state_dict().items():
        assert torch.equal(tensor, page_model[name]), name
    page_run.close()


@needs_mnist
def test_the_mnist_page_and_the_cli_train_bit_identical_models_from_the_same_settings():
    at = page("gan_mnist.py")
    at.radio(key="ganm.start").set_value("scratch")
    at.select_slider(key="ganm.width").set_value(16)
    at.select_slider(key="ganm.noise_dim").set_value(8)
    at.select_slider(key="ganm.batch_size").set_value(16).run()
    at.button(key="ganm.reset").click().run()
    assert not at.exception
    page_params = MNIST_PARAMS.complete({name: at.session_state[f"ganm.{name}"] for name in MNIST_PARAMS.names if f"ganm.{name}" in at.session_state})
    page_run = Run(MnistGANTask(load("mnist", "test", root=SHARED).as_float()), page_params)
    cli_params = params_from(parse("--data", "mnist", "--width", "16", "--noise-dim", "8", "--batch-size", "16"), MNIST_PARAMS, start="scratch")
    assert dict(page_run.params) == cli_params
    page_run.step(20)
    cli_task = MnistGANTask(load("mnist", "test", root=SHARED).as_float())
    drive(cli_task, cli_params, 20, "test")
    page_model = page_run.task.trainer.model.state_dict()
    assert page_run.task.trainer.steps == cli_task.trainer.steps == 20 and page_model["G.0.weight"].shape == (16, 8) and page_model["D.0.weight"].shape == (32, 784)
    for name, tensor in cli_task.trainer.model.state_dict().items():
        assert torch.equal(tensor, page_model[name]), name
    page_run.close()


def test_an_out_of_range_change_to_a_running_run_raises_and_the_run_keeps_its_old_value():
    run = Run(GAN2DTask(), {"width_g": 8, "width_d": 8, "heat_res": 8})
    run.start()
    try:
        with pytest.raises(ValueError, match=r"lr_d must be between 1e-06 and 10, got 20"):
            run.update_params(lr_d=20)
        with pytest.raises(ValueError, match=r"heat_res must be between 8 and 128 cells per side, got 4"):
            run.update_params(heat_res=4)
        assert (run.params["lr_d"], run.params["heat_res"]) == (1e-3, 8)
        seen = run.snapshot().step
        deadline = time.monotonic() + 30
        while run.snapshot().step <= seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run.status == RUNNING and run.snapshot().step > seen
    finally:
        run.close()
    images = np.random.default_rng(0).uniform(size=(64, 28, 28)).astype(np.float32)
    mnist = Run(MnistGANTask(images), {"start": "scratch", "width": 8, "noise_dim": 4, "batch_size": 8})
    with pytest.raises(ValueError, match=r"batch_size must be between 8 and 4096 images, got 4"):
        mnist.update_params(batch_size=4)
    assert mnist.params["batch_size"] == 8 and mnist.step(2).step == 2
    with pytest.raises(ValueError, match="start='pretrained' needs the checkpoint assets/gan/mnist_mlp"):
        mnist.update_params(start="pretrained")
    mnist.close()


def test_the_shipped_mnist_gan_reads_through_the_one_schema():
    ckpt = read_pretrained()
    assert ckpt is not None and ckpt.family == "gan"
    assert ckpt.config == {"model": "gan-mnist", "noise_dim": 32, "hidden_g": [256, 512], "hidden_d": [512, 256]}
    assert ckpt.extra == {"data": "mnist/test", "steps": 6000, "loss": "nonsaturating", "lr_g": 2e-4, "lr_d": 2e-4, "batch_size": 64, "seed": 0}
    model, cfg = gan_mnist.model_from_checkpoint(ckpt)
    images = model.images(gan_mnist.fixed_noise(16, cfg.noise_dim))
    assert images.shape == (16, 28, 28) and 0.0 <= images.min() and images.max() <= 1.0
    assert images.reshape(16, -1).std(0).mean() > 0.05  # different z give different digits
    with pytest.raises(checkpoint.CheckpointError, match=r"mnist_mlp\.json: not a 2-D GAN \(config model = 'gan-mnist'"):
        gan.model_from_checkpoint(ckpt)


def test_a_checkpoint_written_by_the_cli_reads_back(tmp_path, capsys):
    out = tmp_path / "ring"
    assert main(["train", "gan", "--data", "grid", "--steps", "5", "--width-g", "8", "--d-steps", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    ckpt = checkpoint.read(out, "gan")
    assert ckpt.config == {"model": "gan-2d", "noise_dim": 2, "width_g": 8, "width_d": 64, "depth_g": 2, "depth_d": 2}
    defaults = GAN2D_PARAMS.defaults()
    assert ckpt.extra == {"data": "grid", "steps": 5, **{k: defaults[k] for k in ("loss", "optimizer", "lr_g", "lr_d", "batch_size", "seed", "gp_weight")}, "d_steps": 2}
    assert gan.model_from_checkpoint(ckpt).G[0].out_features == 8
    with pytest.raises(checkpoint.CheckpointError, match=r"ring\.json: not an MNIST GAN"):
        gan_mnist.model_from_checkpoint(ckpt)
