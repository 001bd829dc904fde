"""Training a VAE: one model and its optimizer(s) under one learning rule.

- :class:`VAETrainer`: AEVB (Kingma & Welling 2013, Algorithm 1: Adam on the reparameterized
  ELBO, K&W eq. 10, or on the IWAE bound L_k, Burda et al. 2015 eq. 8) or wake-sleep (Hinton et
  al. 1995; book section 19.5, :mod:`engine.models.wake_sleep`) on the same encoder and decoder.

Its minibatches come from :class:`engine.data.EpochSampler` (the "minibatches of M datapoints drawn
randomly" of K&W Algorithm 1).
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from engine.models.optim import set_lr
from engine.models.vae import VAE, VAEConfig
from engine.models.wake_sleep import wake_sleep_step

RULES = ("aevb", "wake-sleep")


class VAETrainer:
    """One VAE and its Adam optimizer(s) under one learning rule (``aevb`` or ``wake-sleep``).

    AEVB has one optimizer over every parameter; wake-sleep one for the decoder (wake phase) and one
    for the encoder (sleep phase). The model's initial weights come from ``torch.manual_seed(seed)``.
    """

    def __init__(self, config: VAEConfig, rule: str, lr: float, seed: int):
        if rule not in RULES:
            raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
        torch.manual_seed(seed)
        self.model, self.rule = VAE(config), rule
        if rule == "aevb":
            self.opts = [torch.optim.Adam(self.model.parameters(), lr=lr)]
        else:
            self.opts = [torch.optim.Adam(self.model.decoder.parameters(), lr=lr), torch.optim.Adam(self.model.encoder.parameters(), lr=lr)]

    def step(self, x: torch.Tensor, lr: float, beta: float, k: int, generator: torch.Generator) -> dict[str, float]:
        """One update on the minibatch ``x``; returns its metrics (elbo, recon, kl; iwae when k > 1), nats per example.

        AEVB ascends recon - beta * KL (k = 1) or L_k (k > 1); wake-sleep ignores beta and k."""
        for opt in self.opts:
            set_lr(opt, lr)
        if self.rule == "wake-sleep":
            return wake_sleep_step(self.model, self.opts[0], self.opts[1], x, generator)
        opt = self.opts[0]
        opt.zero_grad(set_to_none=True)
        loss, metrics = self.model.training_loss(x, beta, k, generator)
        loss.backward()
        opt.step()
        return metrics

    def state(self) -> Any:
        """A deep copy of the model's and the optimizers' state (for a Run's rollback)."""
        return copy.deepcopy((self.model.state_dict(), [o.state_dict() for o in self.opts]))

    def restore(self, state: Any) -> None:
        model_state, opt_states = copy.deepcopy(state)
        self.model.load_state_dict(model_state)
        for opt, s in zip(self.opts, opt_states):
            opt.load_state_dict(s)

    def nonfinite(self) -> str | None:
        """The first parameter holding NaN or Inf, or None. One fused sum per step; the per-tensor search only on failure."""
        with torch.no_grad():
            total = torch.stack([p.sum() for p in self.model.parameters()]).sum()
        if torch.isfinite(total):
            return None
        return next((name for name, p in self.model.named_parameters() if not torch.isfinite(p).all()), "a parameter (overflow)")
