"""Training a denoising autoencoder or a GSN (book sections 20.11.1 and 20.12; Bengio et al. 2013 and 2014): Adam on the
walkback criterion, the reconstruction log-likelihood -log p(x | f(x~)) averaged over the steps of a chain
started at the corrupted data (:meth:`engine.models.gsn.ChainModel.walkback_losses`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from engine.data import Binarized
from engine.models.corruption import corrupt
from engine.models.dae import reconstruction_nll
from engine.models.gsn import ChainModel, build_model


class GSNTrainer:
    """A model, its Adam optimiser and its data: one ``train_step`` per minibatch.

    ``params``: engine.tasks.gsn.TRAIN_PARAMS's values; ``train`` and ``heldout``: gray images in [0, 1] of
    ``height`` x ``width``, flattened (N, D), binarized afresh each time they are drawn (training) or once (held out).
    """

    def __init__(self, params: Mapping[str, Any], train: np.ndarray, heldout: np.ndarray, height: int, width: int,
                 device: torch.device | str = "cpu", init: ChainModel | None = None):  # fmt: skip
        self.height, self.width, self.device = height, width, torch.device(device)
        seed = int(params["seed"])
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        cpu_gen = torch.Generator().manual_seed(seed)
        if init is not None:
            self.model = init.to(self.device)
            self.model.config.corruption, self.model.config.noise = params["corruption"], params["noise"]
            self.model.config.walkback = params["walkback"]
        else:
            options = {"n_hidden": params["hidden"]} if params["architecture"] == "dae" else {
                "n_hidden1": params["hidden"], "n_hidden2": params["hidden2"], "hidden_noise": params["hidden_noise"]}  # fmt: skip
            self.model = build_model(params["architecture"], height, width, cpu_gen, corruption=params["corruption"],
                                     noise=params["noise"], walkback=params["walkback"], **options).to(self.device)  # fmt: skip
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=params["lr"])
        self.data = Binarized(torch.as_tensor(train, device=self.device), "dynamic", seed)
        self.heldout = torch.bernoulli(torch.as_tensor(heldout[:500], device=self.device), generator=torch.Generator(device=self.device).manual_seed(1))
        self.steps = 0

    def apply(self, params: Mapping[str, Any]) -> None:
        """Live changes: learning rate, corruption level, walkback and hidden noise take effect on the next step."""
        for group in self.optimizer.param_groups:
            group["lr"] = params["lr"]
        c = self.model.config
        c.noise, c.walkback = params["noise"], params["walkback"]
        if hasattr(c, "hidden_noise"):
            c.hidden_noise = params["hidden_noise"]

    def train_step(self, batch_size: int) -> dict[str, float]:
        """One Adam step on the walkback criterion; returns the mean loss and the one-step reconstruction NLL."""
        self.model.train()
        index = torch.randint(len(self.data), (batch_size,), generator=self.generator, device=self.device)
        losses = self.model.walkback_losses(self.data.batch(index, self.generator), self.generator)
        loss = losses.mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        return {"loss": float(loss.detach()), "reconstruction_nll": float(losses[0].detach())}

    @torch.no_grad()
    def heldout_nll(self) -> float:
        """One-step reconstruction NLL -log p(x | f(x~)) on 500 held-out images (nats per image)."""
        c = self.model.config
        g = torch.Generator(device=self.device).manual_seed(2)
        x_tilde = corrupt(self.heldout, c.corruption, c.noise, g)
        return float(reconstruction_nll(self.model.reconstruct_logits(x_tilde, g), self.heldout).mean())
