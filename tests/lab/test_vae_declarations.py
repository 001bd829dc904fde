"""The VAE's parameters are declared once (engine.tasks.vae: TRAIN_PARAMS, COMPARE_PARAMS, MANIFOLD_PARAMS): the
pages' widgets, `genlab train vae`'s options and the Run's checks all come from those lists, so the training page
and the CLI train the same model from the same settings, and checkpoints are in the one schema."""

from __future__ import annotations

import json
import os
import shlex
import time
from functools import partial
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from engine import checkpoint
from engine.models.vae import VAE, VAEConfig
from engine.run import RUNNING, Run
from engine.tasks.vae import COMPARE_PARAMS, MANIFOLD_PARAMS, TRAIN_PARAMS, VAETask, epoch_steps
from lab import cli
from lab.cli import build_parser, families
from lab.commands import drive, params_from
from lab.controls import widget_help, widget_label
from tests.lab.cli_parsing import parse_train, train_command

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
TRAINING_PAGE = str(ROOT / "pages" / "vae_training.py")
MANIFOLD_PAGE = str(ROOT / "pages" / "vae_manifold.py")
P = TRAIN_PARAMS
needs_data = pytest.mark.skipif(not (SHARED / "mnist").exists() or not (SHARED / "frey").exists(), reason="../shared/data is absent")


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))
    if SHARED.exists():
        monkeypatch.setenv("GENLAB_DATA", str(SHARED))


parse = partial(parse_train, "vae")


def training_page(**query: str) -> AppTest:
    at = AppTest.from_file(TRAINING_PAGE, default_timeout=180)
    for key, value in {"vae.train.dataset": "8x8 digits", "vae.cmp.dataset": "8x8 digits", **query}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def test_each_declaration_becomes_a_widget_with_its_range_default_and_help():
    at = training_page()
    beta = at.slider(key="vae.train.beta")
    assert (beta.min, beta.max, beta.step, beta.value) == (0.0, 10.0, 0.1, 1.0)
    assert beta.label == widget_label(P["beta"]) == "KL weight β" and beta.help == widget_help(P["beta"]) and "between 0 and 10" in beta.help
    lr = at.select_slider(key="vae.train.lr")
    assert lr.value == P["lr"].default == 1e-3 and list(lr.options) == [f"{t:g}" for t in P["lr"].ticks]
    hidden = at.select_slider(key="vae.train.hidden")
    assert hidden.value == P["hidden"].per_dataset["digits"] == 200 and hidden.label == "Hidden units · on Reset"
    n_z = at.selectbox(key="vae.train.n_z")
    assert list(n_z.options) == ["2", "5", "10", "20"] and n_z.value == 2 and n_z.label == "Latent size N_z · on Reset"
    assert at.radio(key="vae.train.decoder_variance").help == widget_help(P["decoder_variance"])  # under More settings
    seed = at.number_input(key="vae.train.seed")
    assert (seed.min, seed.max, seed.value) == (P["seed"].low, P["seed"].high, 0)
    at.radio(key="vae.train.view").set_value("compare").run()  # the comparison's settings show with the comparison
    cmp_hidden, cmp_batch = at.select_slider(key="vae.cmp.hidden"), at.select_slider(key="vae.cmp.batch_size")
    assert cmp_hidden.value == COMPARE_PARAMS["hidden"].default == 200 and cmp_batch.label == "Batch size M · on Reset"


def test_the_manifold_page_starts_from_its_declared_variant():
    at = AppTest.from_file(MANIFOLD_PAGE, default_timeout=180)
    at.query_params["vae.dataset"] = "8x8 digits"
    at.run()
    assert not at.exception
    lr = at.select_slider(key="vae.lr")
    assert lr.value == MANIFOLD_PARAMS["lr"].default == 3e-3 != P["lr"].default
    assert lr.help == widget_help(P["lr"]) and list(lr.options) == [f"{t:g}" for t in P["lr"].ticks]
    assert at.radio(key="vae.dataset").value == "digits"
    assert not [w for w in at.selectbox if w.key == "vae.n_z"]  # N_z is 2 on this page, not a widget


def test_the_cli_option_refuses_a_value_out_of_range_with_the_declarations_message(capsys):
    with pytest.raises(SystemExit):
        parse("--beta", "20")
    assert "argument --beta: beta must be between 0 and 10, got 20.0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse("--n-z", "3")
    assert "n_z must be one of 2, 5, 10, 20, got 3" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse("--batch-size", "0")
    assert "batch_size must be between 1 and 1000 examples, got 0" in capsys.readouterr().err
    text = train_command("vae").format_help()
    for p in P:
        assert "--" + p.name.replace("_", "-") in text
    assert "--latent" not in text and "--data-root" in text and "--seed" in text and "--batch-size" in text


@pytest.mark.parametrize("rule", ["aevb", "wake-sleep"])
def test_the_page_and_the_cli_train_bit_identical_models_from_the_same_settings(rule):
    at = training_page(**{"vae.train.hidden": "16", "vae.train.rule": rule, "vae.train.k": "2"})
    page_params = P.complete({name: at.session_state[f"vae.train.{name}"] for name in P.names})  # what the page's widgets hold
    cli_params = params_from(parse("--dataset", "digits", "--hidden", "16", "--rule", rule, "--k", "2"), P)
    assert page_params == cli_params
    assert (page_params["hidden"], page_params["rule"], page_params["k"]) == (16, rule, 2)
    page_run = Run(VAETask(), page_params)  # the page's task (held-out ELBO every 200 steps) under a Run
    page_run.step(20)
    cli_task = VAETask(eval_every=10**9)  # the CLI's
    drive(cli_task, cli_params, 20, "test")
    page_model = page_run.task.model.state_dict()
    for name, tensor in cli_task.model.state_dict().items():
        assert torch.equal(tensor, page_model[name]), name
    assert cli_task.steps == 20 and page_run.snapshot().step == 20
    page_run.close()


def test_an_out_of_range_change_to_a_running_run_is_refused_and_the_run_keeps_going():
    run = Run(VAETask(), P.complete({"dataset": "digits", "hidden": 16}))
    run.start()
    try:
        with pytest.raises(ValueError, match=r"lr must be between 1e-05 and 0.1, got 0.5"):
            run.update_params(lr=0.5)
        with pytest.raises(ValueError, match=r"k must be between 1 and 100, got 0"):
            run.update_params(k=0, beta=2.0)
        assert run.params["lr"] == 1e-3 and run.params["k"] == 1 and run.params["beta"] == 1.0  # nothing of a refused change applies
        before = run.snapshot().step
        deadline = time.monotonic() + 60
        while run.snapshot().step <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run.status == RUNNING and run.snapshot().step > before
    finally:
        run.close()


@needs_data
@pytest.mark.parametrize("name", ["mnist_z2", "frey_z2"])
def test_a_shipped_vae_reads_in_the_one_schema_and_its_recorded_command_gives_its_recorded_settings(name):
    ckpt = checkpoint.read(ROOT / "assets" / "vae" / name, "vae")
    config = VAEConfig(**ckpt.config)
    training = ckpt.extra["training"]
    assert (config.n_z, config.n_hidden) == (training["n_z"], training["hidden"])
    P.check({k: v for k, v in training.items() if k in P})  # every recorded setting is inside its declaration
    readme = (ROOT / "assets" / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if "genlab train vae" in x and f"--out assets/vae/{name} " in x)
    args = build_parser(families()).parse_args(shlex.split(line.split("genlab ", 1)[1]))
    params = params_from(args, P)
    assert {k: params[k] for k in training if k in P} == {k: v for k, v in training.items() if k in P}
    assert args.epochs == training["epochs"]
    assert epoch_steps(params["dataset"], params["batch_size"], args.epochs, str(SHARED)) == training["steps"]
    model, extra = VAE.load(ROOT / "assets" / "vae" / name)
    assert model.config == config and extra == ckpt.extra


def test_a_checkpoint_written_by_the_cli_reads_back(tmp_path, capsys):
    out = tmp_path / "digits"
    argv = ["train", "vae", "--dataset", "digits", "--hidden", "16", "--beta", "0.5", "--epochs", "0.5", "--seed", "3", "--out", str(out), "--json"]
    assert cli.main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    ckpt = checkpoint.read(out, "vae")
    assert ckpt.config["n_hidden"] == 16 and ckpt.config["n_z"] == 2 and ckpt.config["image_shape"] == [8, 8]
    training = ckpt.extra["training"]
    assert {k: training[k] for k in P.names} == P.complete({"dataset": "digits", "hidden": 16, "beta": 0.5, "seed": 3})
    assert training["steps"] == result["steps"] == epoch_steps("digits", 100, 0.5)
    model, _ = VAE.load(out)
    assert set(ckpt.tensors) == set(model.state_dict())



@needs_data
def test_the_recorded_command_of_frey_z2_trains_its_recipe_again(tmp_path, monkeypatch):
    """assets/README.md's command for frey_z2 (530 steps, about 5 s) run as written, through the declarations and VAETask.

    On the machine that trained it this gives the shipped tensors bit for bit; other CPUs round differently
    and a training trajectory drifts, so the test asserts the recipe (config, steps) and the held-out ELBO
    with a margin: 10 nats, where the shared-variance decoder on the same budget is 119 nats lower."""
    monkeypatch.setenv("GENLAB_THREADS", "1")
    readme = (ROOT / "assets" / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if "genlab train vae" in x and "--out assets/vae/frey_z2 " in x)
    argv = shlex.split(line.split("genlab ", 1)[1])
    argv[argv.index("--out") + 1] = str(tmp_path / "frey")
    assert cli.main([*argv, "--data-root", str(SHARED)]) == 0
    shipped, again = checkpoint.read(ROOT / "assets" / "vae" / "frey_z2", "vae"), checkpoint.read(tmp_path / "frey", "vae")
    assert again.config == shipped.config and set(again.tensors) == set(shipped.tensors)
    settings = ("dataset", "n_z", "hidden", "decoder_variance", "lr", "batch_size", "seed", "epochs", "steps")
    assert {k: again.extra["training"][k] for k in settings} == {k: shipped.extra["training"][k] for k in settings}
    assert abs(again.extra["test_elbo"] - shipped.extra["test_elbo"]) < 10.0
