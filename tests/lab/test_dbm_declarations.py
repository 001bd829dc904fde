"""The DBM's parameters are declared once (engine.tasks.dbm: TRAINING_PARAMS, MEANFIELD_PARAMS, SAMPLING_PARAMS):
the pages' widgets, `genlab train dbm`'s options and the Run's checks all come from those lists, so the training
page and the CLI train the same model from the same settings, and checkpoints are in the one schema."""

from __future__ import annotations

import json
import os
import shlex
from functools import partial
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from engine import checkpoint
from engine.models.dbm_training import load_trained
from engine.run import RUNNING, Run
from engine.tasks.dbm import MEANFIELD_PARAMS, SAMPLING_PARAMS, TRAINING_PARAMS, DBMTrainingTask, load_images
from lab import cli
from lab.cli import build_parser, families
from lab.commands import drive
from lab.controls import widget_help, widget_label
from lab.dbm.command import training_plan
from tests.lab.cli_parsing import parse_train, train_command

ROOT = Path(__file__).resolve().parents[2]
TRAINING_PAGE = str(ROOT / "pages" / "dbm_training.py")
SAMPLING_PAGE = str(ROOT / "pages" / "dbm_sampling.py")
SHIPPED = ROOT / "assets" / "dbm" / "mnist"
P = TRAINING_PARAMS


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


parse = partial(parse_train, "dbm")


def small_page() -> AppTest:
    """The training page on 8x8 digits with a 64-20-20 DBM and 3 greedy updates per layer, after Reset."""
    at = AppTest.from_file(TRAINING_PAGE, default_timeout=120).run()
    at.number_input(key="dbm.t.n1").set_value(20)
    at.number_input(key="dbm.t.n2").set_value(20)
    at.number_input(key="dbm.t.greedy_updates").set_value(3)
    at.run()
    at.button(key="dbm.t.reset").click().run()
    assert not at.exception
    return at


def test_each_declaration_becomes_a_widget_with_its_range_default_and_help():
    at = AppTest.from_file(TRAINING_PAGE, default_timeout=120).run()
    assert not at.exception
    momentum, mf = at.slider(key="dbm.t.momentum"), at.slider(key="dbm.t.mf_iterations")
    assert (momentum.min, momentum.max, momentum.value, momentum.step) == (P["momentum"].low, P["momentum"].high, P["momentum"].default, 0.05) == (0.0, 0.95, 0.5, 0.05)
    assert momentum.label == widget_label(P["momentum"]) == "Momentum α" and momentum.help == widget_help(P["momentum"])
    assert "between 0 and 0.95" in momentum.help
    assert (mf.min, mf.max, mf.value, mf.step) == (1, 50, 10, 1)
    n1 = at.number_input(key="dbm.t.n1")
    assert (n1.min, n1.max, n1.value) == (1, 4096, 100) and n1.label == "h¹ units · on Reset"
    lr = at.select_slider(key="dbm.t.lr")
    assert lr.value == 0.005 and list(lr.options) == [f"{t:g}" for t in P["lr"].ticks] and lr.label == widget_label(P["lr"])
    assert "in (0, 1]" in lr.help and lr.help.endswith("Acts on the next step.")
    assert at.radio(key="dbm.t.dataset").value == "digits" and list(at.radio(key="dbm.t.dataset").options) == ["MNIST (test split, 9000 images)", "8×8 digits (scikit-learn)", "bars and stripes 4×4"]
    assert at.toggle(key="dbm.t.centering").value is False and at.toggle(key="dbm.t.inference_net").value is True
    chains = at.select_slider(key="dbm.t.n_chains")  # not placed by the page: under "More settings"
    assert chains.value == 100 and chains.help == widget_help(P["n_chains"])


def test_the_sampling_page_takes_its_widgets_from_its_declarations(monkeypatch):
    if not (ROOT / "assets" / "dbm" / "mnist.safetensors").exists():
        pytest.skip("needs assets/dbm/mnist")
    at = AppTest.from_file(SAMPLING_PAGE, default_timeout=120).run()
    assert not at.exception
    chains = at.select_slider(key="dbm.s.n_chains")
    assert chains.value == 16 and list(chains.options) == [str(t) for t in SAMPLING_PARAMS["n_chains"].ticks]
    assert chains.label == "Chains · on Reset"
    seed = at.number_input(key="dbm.s.seed")
    assert (seed.min, seed.max, seed.value) == (0, 9999, 0)


def test_the_cli_option_refuses_a_value_out_of_range_with_the_declarations_message(capsys):
    for argv, message in (
        (("--momentum", "2"), "argument --momentum: momentum must be between 0 and 0.95, got 2.0"),
        (("--lr", "0"), "argument --lr: lr must be in (0, 1], got 0.0"),
        (("--n2", "5000"), "argument --n2: n2 must be between 1 and 4096, got 5000"),
        (("--binarization", "gray"), "argument --binarization: binarization must be one of 'dynamic', 'fixed', 'threshold', got 'gray'"),
    ):
        with pytest.raises(SystemExit):
            parse(*argv)
        assert message in capsys.readouterr().err
    text = train_command("dbm").format_help()
    for p in P:
        if p.name != "greedy_updates":  # set from --greedy-epochs
            assert "--" + p.name.replace("_", "-") in text, p.name
    for flag in ("--greedy-epochs", "--joint-epochs", "--data-root", "--batch-size", "--seed", "--out", "--json", "--no-inference-net"):
        assert flag in text


def test_the_page_and_the_cli_train_bit_identical_models_from_the_same_settings():
    at = small_page()
    assert any("DBM 64-20-20" in c.value for c in at.caption)
    page_params = P.complete({name: at.session_state[f"dbm.t.{name}"] for name in P.names})  # what the page's widgets hold
    cli_params, steps = training_plan(parse("--n1", "20", "--n2", "20", "--greedy-epochs", "0.2", "--joint-epochs", "1"), len(load_images("digits").train))
    assert page_params == cli_params and cli_params["greedy_updates"] == 3 and steps == 3 * 2 + 15
    page_run = Run(DBMTrainingTask(), page_params)
    page_run.step(20)
    cli_task = DBMTrainingTask()
    drive(cli_task, cli_params, 20, "test")
    assert page_run.task.phase == cli_task.phase == "joint"
    page_model = page_run.task.parameter_tensors()
    assert sorted(page_model) == sorted(cli_task.parameter_tensors()) and "net.R1" in page_model
    for name, tensor in cli_task.parameter_tensors().items():
        assert torch.equal(tensor, page_model[name]), name
    page_run.close()


def test_an_out_of_range_change_to_a_running_run_raises_and_the_run_keeps_its_old_value():
    run = Run(DBMTrainingTask(), P.complete({"n1": 8, "n2": 8, "greedy_updates": 2, "batch_size": 20, "n_chains": 10, "mf_iterations": 2}), steps_per_second=50)
    run.start()
    try:
        with pytest.raises(ValueError, match=r"^lr must be in \(0, 1\], got 5.0$"):
            run.update_params(lr=5.0)
        with pytest.raises(ValueError, match="^gibbs_steps must be between 1 and 10, got 11$"):
            run.update_params(gibbs_steps=11)
        assert run.params["lr"] == 0.005 and run.params["gibbs_steps"] == 1 and run.status == RUNNING
        run.update_params(lr=0.01)
        assert run.params["lr"] == 0.01
    finally:
        run.close()


def test_the_mean_field_clamp_takes_the_region_names_of_engine_models_clamp():
    from engine.models.clamp import REGIONS

    assert MEANFIELD_PARAMS["clamp"].choices == ("all", *REGIONS)
    assert MEANFIELD_PARAMS["clamp"].labels["top"] == "top half" and MEANFIELD_PARAMS["clamp"].default == "all"
    with pytest.raises(ValueError, match="clamp must be one of 'all', 'right', 'left', 'top', 'bottom', 'square', got 'top half'"):
        MEANFIELD_PARAMS.check({"clamp": "top half"})


def test_the_shipped_dbm_reads_in_the_one_schema_and_its_recorded_command_gives_its_recorded_parameters():
    if not SHIPPED.with_suffix(".safetensors").exists():
        pytest.skip("needs assets/dbm/mnist")
    ckpt = checkpoint.read(SHIPPED, "dbm")
    assert ckpt.config == {"sizes": [784, 500, 500], "image_shape": [28, 28], "inference_net": True}
    recorded = ckpt.extra["training"]
    assert (ckpt.extra["dataset"], ckpt.extra["binarization"], recorded["greedy_updates"]) == ("mnist", "dynamic", 1350)
    line = next(l for l in (ROOT / "assets" / "README.md").read_text().splitlines() if "genlab train dbm" in l and "--out assets/dbm/mnist" in l)
    argv = shlex.split(line.split("genlab ", 1)[1])
    args = build_parser(families()).parse_args(argv)
    params, steps = training_plan(args, 9000)  # the first 9000 images of MNIST's test split
    assert params == {name: recorded[name] for name in P.names}
    assert (args.greedy_epochs, args.joint_epochs) == (recorded["greedy_epochs"], recorded["joint_epochs"]) and steps == 4500
    trained = load_trained(SHIPPED)
    assert trained.dbm.sizes == (784, 500, 500) and trained.net is not None and trained.extra == ckpt.extra


def test_a_checkpoint_written_by_the_cli_reads_back(tmp_path, capsys):
    out = tmp_path / "bs"
    assert cli.main(["train", "dbm", "--dataset", "bars-stripes", "--n1", "6", "--n2", "4", "--greedy-epochs", "2", "--joint-epochs", "2",
                     "--batch-size", "10", "--n-chains", "12", "--no-inference-net", "--seed", "3", "--out", str(out), "--json"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["sizes"] == [16, 6, 4] and result["updates"] == 2 * 3 * 2 + 2 * 3
    ckpt = checkpoint.read(out, "dbm")
    assert ckpt.config == {"sizes": [16, 6, 4], "image_shape": [4, 4], "inference_net": False}
    training = ckpt.extra["training"]
    assert {name: training[name] for name in P.names} == P.complete({"dataset": "bars-stripes", "n1": 6, "n2": 4, "greedy_updates": 6, "batch_size": 10,
                                                                       "n_chains": 12, "inference_net": False, "seed": 3})  # fmt: skip
    assert sorted(ckpt.tensors) == sorted(["W1", "W2", "b", "c1", "c2", *(f"rbm{l}.{k}" for l in (1, 2) for k in "Wbc")])
    assert all(t.dtype == torch.float32 for t in ckpt.tensors.values())  # stored as float16, read back as float32
    trained = load_trained(out)
    assert trained.net is None and trained.dbm.sizes == (16, 6, 4) and trained.extra["dataset"] == "bars-stripes"
    with pytest.raises(checkpoint.CheckpointError, match=r"bs\.json: a 'dbm' checkpoint, expected a 'rbm' one"):
        checkpoint.read(out, "rbm")
