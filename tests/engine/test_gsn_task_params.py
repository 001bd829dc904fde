"""The chain tasks' noise level: declared as widely as their models' corruption kinds allow (a std up to 3 when one
model is Gaussian, a probability otherwise), and checked against the chosen model's own kind, not salt-and-pepper's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.data import Split
from engine.models.gsn import build_model
from engine.run import Run
from engine.tasks.gsn import ClampedChainTask, FreeChainTask

torch.set_num_threads(1)


@pytest.fixture
def split():
    rng = np.random.default_rng(0)
    images = rng.random((12, 16)).astype(np.float32)
    labels = np.arange(12) % 10
    return Split("toy", torch.from_numpy(images[:8]), torch.from_numpy(images[8:]), (4, 4), "random gray images", "random gray images", 8, labels[:8], labels[8:])


def models():
    g = torch.Generator().manual_seed(0)
    return {
        "gaussian dae": build_model("dae", 4, 4, g, corruption="gaussian", noise=0.5, n_hidden=8),
        "masking gsn": build_model("gsn", 4, 4, g, corruption="masking", noise=0.3, n_hidden1=8, n_hidden2=4),
        "salt-and-pepper dae": build_model("dae", 4, 4, g, corruption="salt_pepper", noise=0.3, n_hidden=8),
    }


def full(task, **values):
    """The task's complete parameters, with 4 chains."""
    size = "n_examples" if "n_examples" in task.PARAMS else "n_chains"
    return task.PARAMS.complete({size: 4, **values})


@pytest.mark.parametrize("task", [ClampedChainTask, FreeChainTask])
def test_a_gaussian_model_takes_a_standard_deviation_above_one(task, split):
    t = task(models(), split)
    assert (t.PARAMS["noise"].low, t.PARAMS["noise"].high) == (0.0, 3.0)  # one model is Gaussian: a std up to 3
    t.check_params(full(t, model_name="gaussian dae", noise=2.0))
    t.reset(full(t, model_name="gaussian dae"))
    assert np.isfinite(t.step(full(t, model_name="gaussian dae", noise=2.0)).get("changed_free_pixels", 0.0))
    with pytest.raises(ValueError, match="noise must be between 0 and 3, got 3.5"):
        full(t, model_name="gaussian dae", noise=3.5)


@pytest.mark.parametrize("task", [ClampedChainTask, FreeChainTask])
@pytest.mark.parametrize(("name", "kind"), [("masking gsn", "masking"), ("salt-and-pepper dae", "salt_pepper")])
def test_a_probability_level_is_refused_above_one_and_named_by_the_models_corruption(task, name, kind, split):
    t = task(models(), split)
    t.check_params(full(t, model_name=name, noise=1.0))
    with pytest.raises(ValueError, match=f"noise level for {kind} corruption must be between 0 and 1, got 2.0"):
        t.check_params(full(t, model_name=name, noise=2.0))
    with pytest.raises(ValueError, match="noise must be between 0 and 3, got -0.1"):
        t.PARAMS.check({"noise": -0.1})


@pytest.mark.parametrize("task", [ClampedChainTask, FreeChainTask])
def test_without_a_gaussian_model_the_level_is_declared_a_probability(task, split):
    t = task({k: m for k, m in models().items() if m.config.corruption != "gaussian"}, split)
    assert (t.PARAMS["noise"].low, t.PARAMS["noise"].high, t.PARAMS["model_name"].choices) == (0.0, 1.0, ("masking gsn", "salt-and-pepper dae"))
    with pytest.raises(ValueError, match="model_name must be one of 'masking gsn', 'salt-and-pepper dae', got 'gaussian dae'"):
        Run(t, {"model_name": "gaussian dae"})


def test_a_running_chain_refuses_a_level_for_its_model_and_keeps_the_old_one(split):
    run = Run(ClampedChainTask(models(), split), {"model_name": "masking gsn", "n_examples": 4, "noise": 0.5})
    run.step(1)
    with pytest.raises(ValueError, match="noise level for masking corruption must be between 0 and 1, got 1.5"):
        run.update_params(noise=1.5)
    assert run.params["noise"] == 0.5 and run.step(1).step == 2
    run.update_params(model_name="gaussian dae", noise=1.5)  # a std for the Gaussian model
    assert run.params["noise"] == 1.5
    run.close()


def test_the_first_held_out_image_must_exist(split):
    task = ClampedChainTask(models(), split)
    task.check_params(full(task, first=3))
    with pytest.raises(ValueError, match=r"first must be below the number of held-out images \(4\): between 0 and 3, got 4"):
        task.check_params(full(task, first=4))


def test_a_free_chain_without_images_runs_from_noise_and_refuses_to_start_from_data():
    from engine.tasks.gsn import shape_only_split

    chain_models = models()
    split = shape_only_split(chain_models)
    assert split.image_shape == (4, 4) and len(split.train) == len(split.heldout) == 0 and split.train.shape[1] == 16
    t = FreeChainTask(chain_models, split)
    with pytest.raises(ValueError, match="start from noise"):
        t.check_params(full(t, model_name="masking gsn", start="data"))
    t.reset(full(t, model_name="masking gsn", start="noise"))
    before = t.arrays()["current"].copy()
    t.step(full(t, model_name="masking gsn", start="noise"))
    after = t.arrays()
    assert after["current"].shape == (4, 4, 4) and not np.array_equal(before, after["current"]) and "label_history" not in after
