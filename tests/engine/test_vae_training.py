"""engine.models.vae_training: the trainer's learning rules."""

from __future__ import annotations

import pytest
import torch

from engine.models.vae import VAEConfig
from engine.models.vae_training import VAETrainer


def test_wake_sleep_has_one_optimizer_per_network_and_aevb_one_for_both():
    config = VAEConfig(16, 2, 8, "tanh", "bernoulli", (4, 4))
    aevb, ws = VAETrainer(config, "aevb", 1e-3, 0), VAETrainer(config, "wake-sleep", 1e-3, 0)
    assert len(aevb.opts) == 1 and len(ws.opts) == 2
    assert sum(len(g["params"]) for g in aevb.opts[0].param_groups) == len(list(aevb.model.parameters()))
    assert all(torch.equal(p, q) for p, q in zip(aevb.model.parameters(), ws.model.parameters()))  # one seed, one start
    with pytest.raises(ValueError, match="rule must be one of aevb, wake-sleep, got 'gibbs'"):
        VAETrainer(config, "gibbs", 1e-3, 0)
