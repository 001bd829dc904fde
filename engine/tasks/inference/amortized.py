"""The amortization-gap page's run: on the shipped 2-D-latent MNIST VAE, a set of held-out images, each with the
encoder's q(z|x), its own optimized Gaussian q (one natural-gradient step per run step) and log p(x) by quadrature
(engine.inference.amortization; book 19.5, Cremer et al. 2018)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from engine.eval.quadrature import _boxes, high_density_box, posterior_grid
from engine.inference import amortization as am
from engine.models.vae import VAE
from engine.params import RESET, Param, Params

POSTERIOR_POINTS = 61
"""Grid points per axis for log p(x) and the drawn p(z|x). Measured on held-out images 0-19 (MNIST test images
9000-9019): 61 x 61 differs from 121 x 121 by at most 1.8e-3 nats (81 x 81 by 1.4e-5; 41 x 41 by 0.056); the check
reports the 61-against-121 difference as the error bound."""
HISTORY = 1000
"""At most this many recorded steps of the ELBO curves: past it every other one is dropped and the stride doubles."""

PARAMS = Params(
    Param("first", 0, int, 0, 999, when=RESET, label="First held-out image",
          help="The set is held-out images first, first + 1, ... (MNIST test images 9000-9999, binarized once, 'fixed', seed 0)."),
    Param("n_images", 20, int, 5, 100, ticks=(5, 10, 20, 50, 100), when=RESET, label="Images in the set", symbol="N",
          help="How many held-out images the averages run over; each has its own optimized q."),
    Param("index", 0, int, 0, 99, label="Image shown", help="Which image of the set the picture shows (0 = the first image of the set)."),
    Param("lr", 0.1, float, 0.001, 0.3, ticks=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3), label="Step size", symbol="ε",
          help="Natural-gradient ascent on each image's ELBO: μ ← μ + ε σ² ∂L/∂μ, log σ² ← log σ² + 2ε ∂L/∂log σ²."),
    Param("hermite", 12, int, choices=(6, 8, 12, 16), when=RESET, label="Gauss-Hermite points per axis", symbol="n",
          help="E_q[log p(x|z)] as a sum over n × n nodes μ + σ √2 t: deterministic, so the ELBO curves have no sampling noise."),
)  # fmt: skip
"""Every knob of the page: the set, and the quadrature act on Reset; the image shown and ε on the next step."""

PRESETS: dict[str, dict[str, Any]] = {
    "The encoder fits well (image 0)": {"first": 0, "n_images": 20, "index": 0, "lr": 0.1},
    "The encoder misses (image 18)": {"first": 0, "n_images": 20, "index": 18, "lr": 0.1},
    "No Gaussian fits (image 16)": {"first": 0, "n_images": 20, "index": 16, "lr": 0.1},
}
"""The lessons, on held-out images 0-19 (MNIST test images 9000-9019). Measured after 100 steps at ε = 0.1: the mean
amortization gap is 21.6 nats and the mean approximation gap 1.7 nats; image 0: 0.07 and 0.01; image 18: the encoder's
q sits beside the posterior, amortization gap 96.2 nats (approximation gap 0.03); image 16: the posterior is not
Gaussian-shaped, approximation gap 24.9 nats (amortization gap 56.3)."""


class AmortizedGapTask:
    """One natural-gradient step on every image's optimized q per step (Task protocol; parameters :data:`PARAMS`).

    Metrics per step (nats, averaged over the set): ``optimized_elbo``, ``amortization_gap``, ``approximation_gap``.
    Arrays: the images, log p(x), both ELBOs and both q's (means, standard deviations) per image, the drawn
    posterior of every image (log density on its grid) and its high-density box, and the ELBO curves.
    """

    PARAMS = PARAMS
    divergence_hint = "lower the step size ε, then press Reset"

    def __init__(self, model: VAE, heldout: torch.Tensor):
        if model.config.n_z != 2:
            raise ValueError(f"the amortization page needs a 2-D latent space, this model has n_z = {model.config.n_z}")
        self.model, self.heldout = model, heldout
        self._quadrature: dict[tuple[int, int], tuple[np.ndarray, ...]] = {}

    def check_params(self, params: Mapping[str, Any]) -> None:
        """What depends on the data: the set must lie inside the held-out images, the image shown inside the set."""
        if params["first"] + params["n_images"] > len(self.heldout):
            raise ValueError(f"first + n_images must be at most {len(self.heldout)} (the held-out images), got {params['first'] + params['n_images']}")
        if params["index"] >= params["n_images"]:
            raise ValueError(f"index (the image shown) must be between 0 and {params['n_images'] - 1}, got {params['index']}")

    def shared_data(self) -> tuple:
        """What a copy of this task shares (engine.timeline): the trained VAE whose posteriors are fitted, and the held-out images."""
        return (self.model, self.heldout)

    def reset(self, params: Mapping[str, Any]) -> None:
        self.x = self.heldout[params["first"] : params["first"] + params["n_images"]].float()
        self.rule = am.hermite_rule(params["hermite"])
        self.encoder_mu, self.encoder_log_var = am.encoder_q(self.model, self.x)
        with torch.no_grad():
            self.amortized_elbo = am.quadrature_elbo(self.model, self.x, self.encoder_mu, self.encoder_log_var, self.rule).numpy()
        key = (params["first"], params["n_images"])
        if key not in self._quadrature:  # the same set after a Reset: its quadrature is not redone
            self._quadrature = {key: self._posteriors()}
        self.log_px, self.grid_z1, self.grid_z2, self.log_posterior, self.posterior_box = self._quadrature[key]
        self.mu, self.log_var = self.encoder_mu.clone(), self.encoder_log_var.clone()
        self.elbo = self.amortized_elbo.copy()
        self.steps, self.stride = 0, 1
        self.history_steps, self.history = [0], [self.elbo.copy()]

    def _posteriors(self) -> tuple[np.ndarray, ...]:
        """Per image of the set: log p(x) and p(z|x) on its adaptive grid (engine.eval.quadrature), and p's high-density box."""
        grids = [posterior_grid(self.model, row, POSTERIOR_POINTS, box) for row, box in zip(self.x, _boxes(self.model, self.x))]
        return (
            np.array([g.log_px for g in grids]),
            np.stack([g.z1 for g in grids]),
            np.stack([g.z2 for g in grids]),
            np.stack([g.log_density for g in grids]).astype(np.float32),
            np.array([high_density_box(g) for g in grids]),
        )

    def gaps(self) -> am.Gaps:
        """The three levels per image, at the current optimized q."""
        return am.Gaps(self.log_px, self.elbo, self.amortized_elbo)

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        self.mu, self.log_var, _ = am.natural_gradient_step(self.model, self.x, self.mu, self.log_var, self.rule, float(params["lr"]))
        with torch.no_grad():
            self.elbo = am.quadrature_elbo(self.model, self.x, self.mu, self.log_var, self.rule).numpy()
        self.steps += 1
        self._record()
        g = self.gaps()
        return {"optimized_elbo": float(g.optimized_elbo.mean()), "amortization_gap": float(g.amortization_gap.mean()), "approximation_gap": float(g.approximation_gap.mean())}

    def _record(self) -> None:
        if self.steps - self.history_steps[-1] < self.stride:
            return
        self.history_steps.append(self.steps)
        self.history.append(self.elbo.copy())
        if len(self.history) > HISTORY:
            self.history_steps, self.history, self.stride = self.history_steps[::2], self.history[::2], self.stride * 2

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "images": self.x.reshape(-1, *self.model.config.image_shape).numpy(),
            "log_px": self.log_px,
            "amortized_elbo": self.amortized_elbo,
            "optimized_elbo": self.elbo.copy(),
            "encoder_mu": self.encoder_mu.numpy(),
            "encoder_std": torch.exp(0.5 * self.encoder_log_var).numpy(),
            "mu": self.mu.numpy().copy(),
            "std": torch.exp(0.5 * self.log_var).numpy(),
            "grid_z1": self.grid_z1,
            "grid_z2": self.grid_z2,
            "log_posterior": self.log_posterior,
            "posterior_box": self.posterior_box,
            "history_steps": np.asarray(self.history_steps, dtype=np.int64),
            "history": np.stack(self.history),
        }

    def nonfinite(self) -> str | None:
        for name, t in (("μ", self.mu), ("log σ²", self.log_var)):
            if not bool(torch.isfinite(t).all()):
                return name
        return None

    def state(self) -> Any:
        return (self.mu.clone(), self.log_var.clone(), self.elbo.copy(), self.steps, self.stride, list(self.history_steps), list(self.history))

    def restore(self, state: Any) -> None:
        self.mu, self.log_var, self.elbo, self.steps, self.stride, self.history_steps, self.history = state
        self.mu, self.log_var, self.history_steps, self.history = self.mu.clone(), self.log_var.clone(), list(self.history_steps), list(self.history)
