"""engine.models.vae_training: the epoch sampler's batches and the trainer's learning rules."""

from __future__ import annotations

import pytest
import torch

from engine.models.vae import VAEConfig
from engine.models.vae_training import EpochSampler, VAETrainer


def test_every_epoch_is_a_permutation_and_no_batch_straddles_two():
    sampler = EpochSampler(10, torch.Generator().manual_seed(0))
    epoch0 = [sampler.next(3) for _ in range(3)]  # 9 of 10; the tenth example waits for no one
    assert sampler.epoch == 0 and len(set(torch.cat(epoch0).tolist())) == 9
    epoch1 = [sampler.next(3) for _ in range(3)]
    assert sampler.epoch == 1 and len(set(torch.cat(epoch1).tolist())) == 9
    assert sorted(sampler.next(30).tolist()) == list(range(10))  # a batch larger than the data is all of it, once
    with pytest.raises(ValueError, match="at least one example"):
        EpochSampler(0, torch.Generator())


def test_the_same_seed_gives_the_same_batches():
    a, b = (EpochSampler(100, torch.Generator().manual_seed(7)) for _ in range(2))
    for _ in range(12):
        assert torch.equal(a.next(16), b.next(16))


def test_wake_sleep_has_one_optimizer_per_network_and_aevb_one_for_both():
    config = VAEConfig(16, 2, 8, "tanh", "bernoulli", (4, 4))
    aevb, ws = VAETrainer(config, "aevb", 1e-3, 0), VAETrainer(config, "wake-sleep", 1e-3, 0)
    assert len(aevb.opts) == 1 and len(ws.opts) == 2
    assert sum(len(g["params"]) for g in aevb.opts[0].param_groups) == len(list(aevb.model.parameters()))
    assert all(torch.equal(p, q) for p, q in zip(aevb.model.parameters(), ws.model.parameters()))  # one seed, one start
    with pytest.raises(ValueError, match="rule must be one of aevb, wake-sleep, got 'gibbs'"):
        VAETrainer(config, "gibbs", 1e-3, 0)
