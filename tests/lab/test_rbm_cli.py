"""`genlab train rbm` / `genlab eval rbm` end to end on bars and stripes (always offline, enumerable)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from engine.models.rbm import RBM
from lab.cli import main


def test_train_then_eval_with_ais_and_exact_log_z(tmp_path, capsys):
    out = tmp_path / "bs"
    assert main(["train", "rbm", "--dataset", "bars-stripes", "--hidden", "16", "--method", "cd", "--k", "10",
                 "--epochs", "1000", "--batch-size", "10", "--lr", "0.05", "--out", str(out), "--json"]) == 0  # fmt: skip
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert trained["updates"] == 3000 and (tmp_path / "bs.safetensors").exists()
    assert main(["eval", "rbm", str(out), "--ais", "--exact", "--betas", "2000", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert abs(result["ais"]["log_z"] - result["exact"]["log_z"]) < 0.1
    assert result["exact"]["heldout_log_likelihood"] > -8.0  # uniform over 2^16 states would be -11.1
    assert result["scheme"].startswith("binary patterns")


def test_eval_names_a_corrupt_checkpoint(tmp_path, capsys):
    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    (tmp_path / "bad.json").write_text("{}")
    assert main(["eval", "rbm", str(tmp_path / "bad"), "--json"]) == 1
    assert "bad.safetensors" in capsys.readouterr().err


SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.skipif(not (SHARED / "frey").exists(), reason="Frey faces not in ../shared/data")
def test_frey_defaults_train_the_model_the_page_trains(tmp_path, capsys):
    """The CLI's Gaussian RBM, like the page's, keeps beta_v fixed at 1 unless asked; learning it is one flag."""
    for flags, learned in (([], False), (["--learn-precision"], True)):
        out = tmp_path / f"frey{len(flags)}"
        assert main(["train", "rbm", "--dataset", "frey", "--data-root", str(SHARED), "--hidden", "20", "--epochs", "1", "--batch-size", "20",
                     "--lr", "0.003", *flags, "--out", str(out), "--json"]) == 0  # fmt: skip
        capsys.readouterr()
        rbm, extra = RBM.load(out)
        assert rbm.config.learn_precision is learned and extra["dataset"] == "frey"
        assert torch.isfinite(rbm.W).all()
        if not learned:
            assert torch.equal(rbm.log_precision, torch.zeros_like(rbm.log_precision))
