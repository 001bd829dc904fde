"""Checkpoints: safetensors + JSON round trip, and errors that name the file."""

import json

import pytest
import torch

from engine import checkpoint


def test_round_trip_with_or_without_suffix(tmp_path):
    tensors = {"W": torch.randn(5, 3), "b": torch.randn(5).half(), "n": torch.arange(4)}
    written = checkpoint.save(tmp_path / "m", tensors, {"kind": "rbm", "n_hidden": 3})
    assert written == tmp_path / "m.safetensors" and (tmp_path / "m.json").exists()
    for name in ("m", "m.safetensors", "m.json"):
        got, config = checkpoint.load(tmp_path / name)
        assert config == {"kind": "rbm", "n_hidden": 3}
        torch.testing.assert_close(got["W"], tensors["W"])
        assert got["b"].dtype == torch.float32 and got["n"].dtype == torch.int64
    assert not list(tmp_path.glob("*.tmp"))


def test_missing_corrupt_and_misshapen_files_are_named(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match="m.safetensors: checkpoint file not found"):
        checkpoint.load(tmp_path / "m")
    checkpoint.save(tmp_path / "m", {"W": torch.zeros(2, 2)}, {})
    (tmp_path / "m.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(checkpoint.CheckpointError, match="m.safetensors: not a valid safetensors file"):
        checkpoint.load(tmp_path / "m")
    checkpoint.save(tmp_path / "m", {"W": torch.zeros(2, 2)}, {})
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(checkpoint.CheckpointError, match="m.json: not a valid JSON config"):
        checkpoint.load(tmp_path / "m")
    (tmp_path / "m.json").write_text(json.dumps({}))
    tensors, _ = checkpoint.load(tmp_path / "m")
    with pytest.raises(checkpoint.CheckpointError, match=r"W has shape \(2, 2\), expected \(3, 2\)"):
        checkpoint.expect_shapes(tmp_path / "m", tensors, {"W": (3, 2)})
    with pytest.raises(checkpoint.CheckpointError, match="missing tensors b"):
        checkpoint.expect_shapes(tmp_path / "m", tensors, {"W": (2, 2), "b": (2,)})
