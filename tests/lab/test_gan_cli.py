"""`genlab train|eval|bench gan`: a short 2-D run writes a checkpoint that eval reads back; bench prints its JSON."""

from __future__ import annotations

import json

import pytest

from engine import checkpoint
from lab.cli import main


def test_train_then_eval_a_2d_gan(tmp_path, capsys):
    out = tmp_path / "ring"
    assert main(["train", "gan", "--data", "ring", "--loss", "nonsaturating", "--steps", "60", "--width-g", "16", "--width-d", "16", "--out", str(out), "--json"]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert trained["steps"] == 60 and trained["modes_total"] == 8
    assert 0.0 <= trained["modes_covered"] <= 1.0 and 0.0 <= trained["js_divergence"] <= 0.6932
    assert main(["eval", "gan", str(out), "--samples", "500", "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert evaluated["data"] == "ring" and evaluated["samples"] == 500
    assert 0.0 <= evaluated["high_quality"] <= 1.0


def test_train_builds_g_and_d_with_their_own_widths_and_depths(tmp_path, capsys):
    out = tmp_path / "sizes"
    args = ["train", "gan", "--data", "ring", "--steps", "2", "--width-g", "8", "--width-d", "24", "--depth-g", "1", "--depth-d", "3", "--out", str(out), "--json"]
    assert main(args) == 0
    capsys.readouterr()
    ckpt = checkpoint.read(out, "gan")
    tensors, config = ckpt.tensors, ckpt.config
    assert (config["width_g"], config["width_d"], config["depth_g"], config["depth_d"]) == (8, 24, 1, 3)
    g_shapes = [tuple(t.shape) for k, t in sorted(tensors.items()) if k.startswith("G.") and k.endswith("weight")]
    d_shapes = [tuple(t.shape) for k, t in sorted(tensors.items()) if k.startswith("D.") and k.endswith("weight")]
    assert g_shapes == [(8, 2), (2, 8)]
    assert d_shapes == [(24, 2), (24, 24), (24, 24), (1, 24)]


def test_eval_refuses_a_missing_checkpoint(tmp_path, capsys):
    assert main(["eval", "gan", str(tmp_path / "nothing"), "--json"]) == 1
    assert f"{tmp_path / 'nothing'}.safetensors: checkpoint file not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [("--steps", "0", "must be above zero"), ("--steps", "-5", "must be above zero"),
     ("--lr-g", "0", "lr_g must be between 1e-06 and 10, got 0.0"), ("--lr-d", "-0.1", "lr_d must be between 1e-06 and 10, got -0.1")],
)  # fmt: skip
def test_train_refuses_counts_and_rates_out_of_range(flag, value, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "gan", "--data", "ring", flag, value, "--out", "unused", "--json"])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_train_refuses_an_option_of_the_other_gan(capsys):
    assert main(["train", "gan", "--data", "ring", "--width", "16", "--out", "unused"]) == 1
    assert "--width does not apply to --data ring" in capsys.readouterr().err
    assert main(["train", "gan", "--data", "mnist", "--optimizer", "sgd", "--d-steps", "2", "--out", "unused"]) == 1
    assert "--optimizer, --d-steps do not apply to --data mnist" in capsys.readouterr().err


def test_bench_reports_both_rates(capsys):
    assert main(["bench", "gan", "--steps", "30", "--frames", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["train_steps_per_second"] > 0 and result["peer_plain_pytorch_steps_per_second"] > 0
    assert result["figure_updates_per_second_all_layers"] > 0
