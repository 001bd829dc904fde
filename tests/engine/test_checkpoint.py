"""Checkpoints: the one schema {family, config, extra} beside a safetensors file, and errors that name the file."""

import json
from pathlib import Path

import pytest
import torch

from engine import checkpoint

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def test_round_trip_with_or_without_suffix(tmp_path):
    tensors = {"W": torch.randn(5, 3), "b": torch.randn(5).half(), "n": torch.arange(4)}
    written = checkpoint.write(tmp_path / "m", "rbm", tensors, {"n_hidden": 3}, {"dataset": "toy"})
    assert written == tmp_path / "m.safetensors"
    assert json.loads((tmp_path / "m.json").read_text()) == {"family": "rbm", "config": {"n_hidden": 3}, "extra": {"dataset": "toy"}}
    for name in ("m", "m.safetensors", "m.json"):
        got = checkpoint.read(tmp_path / name, "rbm")
        assert (got.family, got.config, got.extra, got.path) == ("rbm", {"n_hidden": 3}, {"dataset": "toy"}, tmp_path / "m.safetensors")
        torch.testing.assert_close(got.tensors["W"], tensors["W"])
        assert got.tensors["b"].dtype == torch.float32 and got.tensors["n"].dtype == torch.int64
    assert not list(tmp_path.glob("*.tmp"))


def test_a_foreign_schema_or_another_family_is_refused_naming_the_file(tmp_path):
    checkpoint.write(tmp_path / "m", "vae", {"W": torch.zeros(2, 2)}, {})
    with pytest.raises(checkpoint.CheckpointError, match=r"m\.json: a 'vae' checkpoint, expected a 'dbm' one"):
        checkpoint.read(tmp_path / "m", "dbm")
    (tmp_path / "m.json").write_text(json.dumps({"model": "rbm", "n_hidden": 3}))
    with pytest.raises(checkpoint.CheckpointError, match=r"m\.json: not in the checkpoint schema .*family.*config.*extra.*\(its keys: model, n_hidden\)"):
        checkpoint.read(tmp_path / "m", "rbm")
    (tmp_path / "m.json").write_text(json.dumps({"family": "rbm", "config": [3], "extra": {}}))
    with pytest.raises(checkpoint.CheckpointError, match="not in the checkpoint schema"):
        checkpoint.read(tmp_path / "m", "rbm")
    with pytest.raises(ValueError, match="family must be a lower-case name like 'rbm'.*got 'my model'"):
        checkpoint.write(tmp_path / "x", "my model", {"W": torch.zeros(1)}, {})
    assert not (tmp_path / "x.json").exists()


def test_missing_corrupt_and_misshapen_files_are_named(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match="m.safetensors: checkpoint file not found"):
        checkpoint.read(tmp_path / "m", "rbm")
    checkpoint.write(tmp_path / "m", "rbm", {"W": torch.zeros(2, 2)}, {})
    (tmp_path / "m.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(checkpoint.CheckpointError, match="m.safetensors: not a valid safetensors file"):
        checkpoint.read(tmp_path / "m", "rbm")
    checkpoint.write(tmp_path / "m", "rbm", {"W": torch.zeros(2, 2)}, {})
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(checkpoint.CheckpointError, match="m.json: not a valid JSON config"):
        checkpoint.read(tmp_path / "m", "rbm")
    checkpoint.write(tmp_path / "m", "rbm", {"W": torch.zeros(2, 2)}, {})
    tensors = checkpoint.read(tmp_path / "m", "rbm").tensors
    with pytest.raises(checkpoint.CheckpointError, match=r"W has shape \(2, 2\), expected \(3, 2\)"):
        checkpoint.expect_shapes(tmp_path / "m", tensors, {"W": (3, 2)})
    with pytest.raises(checkpoint.CheckpointError, match="missing tensors b"):
        checkpoint.expect_shapes(tmp_path / "m", tensors, {"W": (2, 2), "b": (2,)})


@pytest.mark.parametrize("meta", sorted(ASSETS.glob("*/*.json")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_shipped_checkpoint_reads_through_the_one_schema(meta):
    family = meta.parent.name
    ckpt = checkpoint.read(meta, family)
    assert ckpt.family == family and ckpt.config and ckpt.tensors
    assert all(torch.isfinite(t).all() for t in ckpt.tensors.values() if t.is_floating_point())
