"""The mean-field page's live step (the Task protocol of engine.run): binary sparse coding's fixed-point updates
(section 19.4.1, eq. 19.44) against the exact posterior, or continuous mean field on a 2-D Gaussian (section 19.4.3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.inference import binary_sparse_coding as bsc
from engine.inference import gaussian_mean_field as gmf
from engine.params import RESET, Param, Params

PARTS = ("binary", "gaussian")
SCHEDULES = ("sequential", "parallel")
GAUSSIAN_START = (-1.5, 2.0)
"""Where q's means start on the Gaussian part (q starts as N(start, I)); the posterior's mean is (1, 0.5)."""

PARAMS = Params(
    Param("part", "binary", str, choices=PARTS, when=RESET, label="Model",
          labels={"binary": "binary sparse coding (19.4.1)", "gaussian": "2-D Gaussian posterior (19.4.3)"},
          help="Binary sparse coding: discrete h, exact posterior by enumeration. Gaussian: continuous h, q(h₁) and q(h₂) updated in turn."),
    Param("dictionary", "similar pair", str, choices=bsc.DICTIONARIES, when=RESET, label="Features (columns of W)",
          labels={"similar pair": "features 1 and 2 similar", "orthogonal": "orthogonal (factorial posterior)", "random": "random"},
          help="Unit-norm columns of W in 8 dimensions. A similar pair explains the same input: the two compete (explaining away)."),
    Param("n_hidden", 4, int, 2, 8, step=1, when=RESET, label="Hidden units", symbol="n",
          help="The exact posterior sums over the 2ⁿ states of h."),
    Param("input", "feature 1", str, choices=("feature 1", "sample"), when=RESET, label="Input v",
          labels={"feature 1": "v = W:,1 (feature 1)", "sample": "a sample of the model"},
          help="What to explain: feature 1 itself, or h ~ p(h), v ~ p(v | h) drawn with the seed."),
    Param("beta", 8.0, float, 0.5, 32.0, ticks=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0), when=RESET, label="Noise precision", symbol="β",
          help="p(v | h) = N(v; Wh, β⁻¹I): a larger β makes overlapping features compete harder."),
    Param("bias", -1.0, float, -4.0, 2.0, step=0.25, when=RESET, label="Prior bias", symbol="b",
          help="p(hᵢ = 1) = σ(b) for every unit: negative means sparse."),
    Param("rho", 0.8, float, -0.95, 0.95, step=0.05, when=RESET, label="Correlation of h₁, h₂", symbol="ρ",
          help="The Gaussian posterior's correlation: mean field's error shrinks by ρ² per sweep and its variances 1/Λᵢᵢ = 1 − ρ² are too small."),
    Param("schedule", "sequential", str, choices=SCHEDULES, label="Schedule",
          labels={"sequential": "one unit at a time", "parallel": "all units at once"},
          help="One at a time never lowers L; all at once can oscillate between explanations."),
    Param("damping", 0.0, float, 0.0, 0.95, step=0.05, label="Damping", symbol="d",
          help="Parallel updates only: ĥ ← d ĥ + (1 − d) σ(·)."),
    Param("n_iter", 30, int, 1, 200, step=1, label="Iterations", help="Where the run stops (binary: sweeps; Gaussian: factor updates)."),
    Param("seed", 0, int, 0, 9999, when=RESET, label="Seed", help="The random features and the sampled input."),
)  # fmt: skip
"""The mean-field page's parameters."""

_BINARY = {"part": "binary", "dictionary": "similar pair", "n_hidden": 4, "input": "feature 1", "beta": 8.0, "bias": -1.0, "n_iter": 30, "seed": 0}
PRESETS: dict[str, dict[str, Any]] = {
    "Explaining away": {**_BINARY, "schedule": "sequential", "damping": 0.0},
    "Parallel updates oscillate": {**_BINARY, "schedule": "parallel", "damping": 0.0},
    "Damped parallel updates converge": {**_BINARY, "schedule": "parallel", "damping": 0.5},
    "Gaussian mean field": {"part": "gaussian", "rho": 0.8, "n_iter": 30},
}
"""The lessons. On the default similar pair (cosine 0.96, β = 8, b = −1, v = feature 1): one unit at a time, feature
1 switches on and explains feature 2 away, while the exact marginals share the explanation between the two; all at
once, both switch on and off together and L oscillates; damping 0.5 converges (see tests/engine/test_inference_meanfield.py)."""


class MeanFieldTask:
    """One step: a mean-field iteration. Binary part: one sweep of eq. 19.44 over the units (sequential) or one damped
    parallel update, q starting from the prior (ĥ = σ(b)). Gaussian part: one factor update of eq. 19.56, q(h₁) then
    q(h₂) in turn, q starting as N(:data:`GAUSSIAN_START`, I)."""

    PARAMS = PARAMS

    def shared_data(self) -> tuple:
        """What a copy of this task shares (engine.timeline): nothing, the two small models and their iterates are small."""
        return ()

    def reset(self, p: Mapping[str, Any]) -> None:
        self.part = p["part"]
        self.iteration = 0
        if self.part == "binary":
            n = int(p["n_hidden"])
            W = bsc.make_dictionary(p["dictionary"], n, int(p["seed"]))
            self.model = bsc.BinarySparseCoding(W, np.full(n, float(p["bias"])), np.full(W.shape[0], float(p["beta"])))
            self.v = bsc.make_input(self.model, p["input"], int(p["seed"]))
            self.h_hat = bsc.sigmoid(self.model.b)
            self.log_pv = bsc.exact_log_evidence(self.model, self.v)
            self.exact = bsc.exact_marginals(self.model, self.v)
            self.exact_pair = bsc.exact_pair_marginal(self.model, self.v)
            self.bounds = [bsc.bound(self.model, self.v, self.h_hat)]
        else:
            self.posterior = gmf.correlated_posterior(float(p["rho"]))
            self.q = gmf.FactorialGaussian(np.array(GAUSSIAN_START), np.ones(2))
            self.path = [self.q.means.copy()]
            self.kls = [gmf.kl_to_posterior(self.q, self.posterior)]

    def step(self, p: Mapping[str, Any]) -> Mapping[str, float]:
        if self.iteration >= int(p["n_iter"]):
            return {}
        self.iteration += 1
        if self.part == "gaussian":
            old = self.q.means
            self.q = gmf.update_factor(self.posterior, self.q, (self.iteration - 1) % 2)
            self.path.append(self.q.means.copy())
            self.kls.append(gmf.kl_to_posterior(self.q, self.posterior))
            return {"kl": self.kls[-1], "change": max(float(np.max(np.abs(self.q.means - old))), 1e-300)}
        old = self.h_hat
        if p["schedule"] == "sequential":
            self.h_hat = bsc.sequential_sweep(self.model, self.v, self.h_hat)
        else:
            self.h_hat = bsc.parallel_update(self.model, self.v, self.h_hat, float(p["damping"]))
        self.bounds.append(bsc.bound(self.model, self.v, self.h_hat))
        return {"bound": self.bounds[-1], "gap": self.log_pv - self.bounds[-1], "change": max(float(np.max(np.abs(self.h_hat - old))), 1e-300)}

    def arrays(self) -> Mapping[str, np.ndarray]:
        out: dict[str, np.ndarray] = {"iteration": np.array(self.iteration)}
        if self.part == "binary":
            out |= {
                "h_hat": self.h_hat.copy(), "exact": self.exact, "log_pv": np.array(self.log_pv), "bounds": np.array(self.bounds),
                "cosine_12": np.array(float(self.model.W[:, 0] @ self.model.W[:, 1])),
                "exact_pair_12": self.exact_pair, "q_pair_12": bsc.factorial_pair(self.h_hat),
            }  # fmt: skip
        else:
            out |= {
                "mean": self.posterior.mean, "covariance": self.posterior.covariance, "q_means": self.q.means.copy(),
                "q_variances": self.q.variances.copy(), "path": np.array(self.path), "kls": np.array(self.kls),
                "kl_at_fixed_point": np.array(gmf.kl_to_posterior(gmf.fixed_point(self.posterior), self.posterior)),
            }  # fmt: skip
        return out


def run_preset(name: str, iterations: int) -> MeanFieldTask:
    """A MeanFieldTask reset to the preset ``name`` and stepped ``iterations`` times (its ``n_iter`` set to that)."""
    params = PARAMS.complete({**PRESETS[name], "n_iter": iterations})
    task = MeanFieldTask()
    task.reset(params)
    for _ in range(iterations):
        task.step(params)
    return task
