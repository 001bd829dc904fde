"""The chain tasks range-check the noise level against the chosen model's own corruption, not salt-and-pepper's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.models.gsn import build_model
from engine.tasks.gsn import ClampedChainTask, FreeChainTask, Split

torch.set_num_threads(1)


@pytest.fixture
def split():
    rng = np.random.default_rng(0)
    images = rng.random((12, 16)).astype(np.float32)
    labels = np.arange(12) % 10
    return Split(images[:8], labels[:8], images[8:], labels[8:], 4, 4)


def models():
    g = torch.Generator().manual_seed(0)
    return {
        "gaussian dae": build_model("dae", 4, 4, g, corruption="gaussian", noise=0.5, n_hidden=8),
        "masking gsn": build_model("gsn", 4, 4, g, corruption="masking", noise=0.3, n_hidden1=8, n_hidden2=4),
        "salt-and-pepper dae": build_model("dae", 4, 4, g, corruption="salt_pepper", noise=0.3, n_hidden=8),
    }


@pytest.mark.parametrize("task", [ClampedChainTask, FreeChainTask])
def test_a_gaussian_model_takes_a_standard_deviation_above_one(task, split):
    t = task(models(), split)
    t.check_params({"model_name": "gaussian dae", "noise": 2.0})  # a std: allowed up to 3
    t.reset({"model_name": "gaussian dae", "n_examples": 4, "n_chains": 4})
    assert np.isfinite(t.step({"model_name": "gaussian dae", "noise": 2.0}).get("changed_free_pixels", 0.0))
    with pytest.raises(ValueError, match="noise level for gaussian corruption must be between 0 and 3, got 3.5"):
        t.check_params({"model_name": "gaussian dae", "noise": 3.5})


@pytest.mark.parametrize("task", [ClampedChainTask, FreeChainTask])
@pytest.mark.parametrize(("name", "kind"), [("masking gsn", "masking"), ("salt-and-pepper dae", "salt_pepper")])
def test_a_probability_level_is_refused_above_one_and_named_by_the_models_corruption(task, name, kind, split):
    t = task(models(), split)
    t.check_params({"model_name": name, "noise": 1.0})
    t.check_params({"model_name": name, "noise": None})  # None: the model's own level
    with pytest.raises(ValueError, match=f"noise level for {kind} corruption must be between 0 and 1, got 2.0"):
        t.check_params({"model_name": name, "noise": 2.0})
    with pytest.raises(ValueError, match=f"noise level for {kind} corruption"):
        t.check_params({"model_name": name, "noise": -0.1})
