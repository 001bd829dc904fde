"""`genlab train|eval|bench gsn`: tiny DAE / GSN runs on the offline 8x8 digits, eval reads the checkpoint back,
bench runs on both kinds of checkpoint, and bad input is refused with a message."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os

import pytest

from engine.models.gsn import load_model
from engine.tasks.gsn import load_split
from lab import cli



@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


def run_json(argv: list[str]) -> dict:
    """Run ``genlab ARGV --json`` and return the JSON object on its last line."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main([*argv, "--json"]) == 0
    return json.loads(out.getvalue().strip().splitlines()[-1])


def train_argv(kind: str, out) -> list[str]:
    size = ["--hidden", "48", "--walkback", "1"] if kind == "dae" else ["--hidden", "32", "--hidden2", "16", "--walkback", "2"]
    return ["train", "gsn", "--architecture", kind, "--dataset", "digits", *size, "--epochs", "2", "--batch-size", "50", "--lr", "0.01",
            "--out", str(out)]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A DAE and a GSN trained for 2 epochs of the 8x8 digits (about 60 steps each, well under a second)."""
    os.environ.setdefault("GENLAB_THREADS", "1")
    root = tmp_path_factory.mktemp("gsn_cli")
    return {kind: (root / kind, run_json(train_argv(kind, root / kind))) for kind in ("dae", "gsn")}


@pytest.mark.parametrize("kind", ["dae", "gsn"])
def test_train_writes_a_checkpoint_of_the_asked_shape_and_lowers_the_reconstruction_error(trained, kind):
    path, result = trained[kind]
    assert result["checkpoint"] == str(path) and result["model"] == kind
    assert result["steps"] == round(2 * len(load_split("digits").train) / 50) and result["device"] == "cpu"
    assert math.isfinite(result["loss"]) and result["loss"] > 0
    assert 0 < result["heldout_reconstruction_nll"] < result["heldout_reconstruction_nll_before"]
    assert result["heldout_reconstruction_nll_before"] < 64 * math.log(2) * 1.5  # near uniform pixels before training
    model, extra = load_model(path)
    assert model.kind == kind and (model.config.height, model.config.width) == (8, 8)
    assert extra["dataset"] == "digits" and extra["training"]["trained_steps"] == result["steps"]
    assert extra["training"]["lr"] == 0.01 and extra["training"]["batch_size"] == 50 and extra["training"]["start"] == "scratch"
    assert extra["heldout_reconstruction_nll"] == pytest.approx(result["heldout_reconstruction_nll"])
    if kind == "gsn":
        assert (model.config.n_hidden1, model.config.n_hidden2, model.config.walkback) == (32, 16, 2)
    else:
        assert (model.config.n_hidden, model.config.walkback) == (48, 1)


def test_eval_reads_the_checkpoint_back_and_reports_sane_numbers(trained):
    path, _ = trained["dae"]
    result = run_json(["eval", "gsn", str(path), "--n-images", "60", "--chain-steps", "3", "--parzen-samples", "100", "--burn-in", "5",
                       "--inpaint", "top"])  # fmt: skip
    assert result["checkpoint"] == str(path) and result["model"] == "dae" and result["walkback"] == 1 and result["noise"] == 0.3
    assert result["n_images"] == 60 and result["chain_steps"] == 3 and result["parzen_samples"] == 100
    assert list(result["inpainting"]) == ["top", "right", "left", "bottom"]
    for score in result["inpainting"].values():
        assert 0.0 <= score["accuracy"] <= 1.0 and 0.0 <= score["blank_accuracy"] <= 1.0
    assert 0.7 < result["classifier_accuracy_intact"] <= 1.0  # a pixel classifier reads intact 8x8 digits well
    assert math.isfinite(result["parzen_log_likelihood"]) and result["parzen_std_error"] > 0 and result["parzen_sigma"] > 0
    assert "not a likelihood of the model" in result["parzen_note"]
    assert 0 < result["nearest_neighbour_distance_mean"] <= 8.0  # 64 pixels in [0, 1]: no distance exceeds 8
    assert 0.0 <= result["fraction_far_from_training"] <= 1.0 and result["far_threshold"] > 0


@pytest.mark.parametrize("kind", ["dae", "gsn"])
def test_bench_runs_the_checkpoints_own_chain_on_engine_and_peer(trained, kind):
    path, _ = trained[kind]
    result = run_json(["bench", "gsn", "--path", str(path), "--seconds", "0.05", "--chains", "10"])
    assert result["model"] == str(path) and result["chains"] == 10 and result["film_chains"] == 64
    assert result["chain"]["kind"] == kind and result["chain"]["corruption"] == "salt_pepper" and result["chain"]["noise"] == 0.3
    assert result["chain_steps_per_s"]["engine_torch"] > 0 and result["chain_steps_per_s"]["peer_numpy"] > 0
    fps = result["filmstrip_frames_per_s"]
    assert fps["engine_torch_palette_png"] > 0 and fps["peer_numpy_rgb_png_default"] > 0
    assert result["target_frames_per_s"] == 25
    assert result["engine_meets_target"] is (fps["engine_torch_palette_png"] >= 25)
    assert result["peer_meets_target"] is (fps["peer_numpy_rgb_png_default"] >= 25)
    assert {"chain_steps", "filmstrip_frames", "target"} <= set(result["timed"])
    assert ("h2 carried" in result["timed"]["chain_steps"]) is (kind == "gsn")


@pytest.mark.parametrize("verb", ["eval", "bench"])
def test_a_missing_checkpoint_is_refused_with_its_name(verb, tmp_path, capsys):
    missing = tmp_path / "nothing"
    argv = ["eval", "gsn", str(missing)] if verb == "eval" else ["bench", "gsn", "--path", str(missing), "--seconds", "0.01"]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "checkpoint file not found" in err and "nothing.safetensors" in err


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--epochs", "0", "must be above zero, got 0"), ("--epochs", "-1", "must be above zero, got -1"),
    ("--lr", "0", "lr must be between 1e-05 and 0.1, got 0.0"), ("--lr", "-0.001", "lr must be between 1e-05 and 0.1, got -0.001"),
    ("--lr", "0.5", "lr must be between 1e-05 and 0.1, got 0.5"), ("--batch-size", "0", "batch_size must be between 1 and 4096 examples, got 0"),
    ("--walkback", "21", "walkback must be between 1 and 20, got 21"), ("--architecture", "rbm", "architecture must be one of 'dae', 'gsn', got 'rbm'"),
])  # fmt: skip
def test_train_refuses_values_out_of_their_declared_range(flag, value, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "gsn", "--dataset", "digits", flag, value, "--out", str(tmp_path / "x")])
    assert exit_.value.code == 2
    assert f"argument {flag}: {message}" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()


def test_train_refuses_a_noise_level_beyond_its_corruptions_range(tmp_path, capsys):
    out = str(tmp_path / "x")
    assert cli.main(["train", "gsn", "--dataset", "digits", "--corruption", "masking", "--noise", "1.5", "--out", out]) == 1
    assert "noise level for masking corruption must be between 0 and 1" in capsys.readouterr().err


def test_hidden_noise_help_names_the_sigmoid_units_the_gsn_uses(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "gsn", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "before and after its sigmoid" in text and "tanh" not in text
