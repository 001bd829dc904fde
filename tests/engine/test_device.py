"""Device choice and CPU threads."""

import pytest
import torch

from engine.device import configure_threads, pick_device, usable_cores


def test_override_and_default(monkeypatch):
    monkeypatch.setenv("GENLAB_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    monkeypatch.delenv("GENLAB_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert pick_device().type == expected


def test_bad_or_unavailable_device_is_refused(monkeypatch):
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            pick_device("cuda")


def test_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("GENLAB_THREADS", "1")
        assert configure_threads() == 1 and torch.get_num_threads() == 1
        monkeypatch.delenv("GENLAB_THREADS")
        assert configure_threads() == min(usable_cores(), 8)
        for cores, expected in ((1, 1), (2, 1), (4, 3), (16, 8)):
            monkeypatch.setattr("engine.device.usable_cores", lambda c=cores: c)
            assert configure_threads(spare=1) == expected, cores
    finally:
        torch.set_num_threads(before)
