"""The "Which KL?" page's run: one gradient step on a Gaussian q's parameters per step, minimizing KL(q || p) or
KL(p || q) by quadrature (engine.inference.which_kl; book section 19.4 and figure 3.6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from engine.inference import which_kl as kl
from engine.params import RESET, Param, Params

TARGETS = ("gaussian", "mixture")
VIEW = 5.0
"""The picture shows [-VIEW, VIEW]^2."""
RADII = (1.0, 2.0)
"""The Mahalanobis radii of the drawn contours of q and of the optimum (the 1-sigma and 2-sigma ellipses)."""

PARAMS = Params(
    Param("target", "gaussian", str, choices=TARGETS, label="Target p",
          labels={"gaussian": "correlated Gaussian", "mixture": "two-mode mixture"},
          help="A Gaussian with unit marginal variances and correlation ρ, or two Gaussians (std 0.6) a distance d apart on the diagonal."),
    Param("rho", 0.9, float, -0.95, 0.95, step=0.05, label="Correlation", symbol="ρ", help="The correlated Gaussian's correlation: Σ = [[1, ρ], [ρ, 1]]."),
    Param("separation", 4.0, float, 0.0, 5.0, step=0.25, label="Mode separation", symbol="d", help="The distance between the mixture's two means."),
    Param("divergence", "reverse", str, choices=kl.DIVERGENCES, label="Minimize",
          labels={"reverse": "KL(q‖p)", "forward": "KL(p‖q)"},
          help="KL(q‖p) (reverse, the variational choice) seeks a mode; KL(p‖q) (forward) covers the mass."),
    Param("family", "factorized", str, choices=kl.FAMILIES, label="Gaussian q",
          labels={"factorized": "factorized (diagonal)", "full": "full covariance"},
          help="Factorized: q(x) = q(x₁) q(x₂), the mean-field family of eq. 19.17; full: any 2x2 covariance."),
    Param("lr", 0.1, float, 0.001, 0.5, ticks=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5), label="Step size", symbol="η",
          help="θ ← θ − η ∇θ KL, θ = (mean, log of the Cholesky diagonal, the Cholesky off-diagonal)."),
    Param("start_x1", 1.5, float, -3.0, 3.0, step=0.25, when=RESET, label="Start mean x₁", help="q's mean at step 0, first coordinate."),
    Param("start_x2", -1.5, float, -3.0, 3.0, step=0.25, when=RESET, label="Start mean x₂", help="q's mean at step 0, second coordinate."),
    Param("start_std", 0.5, float, 0.25, 2.0, step=0.25, when=RESET, label="Start std", help="q's standard deviations at step 0 (no correlation)."),
)  # fmt: skip
"""Every knob of the page: the target and the fit act on the next step; q's starting point on Reset."""

_FIT = {"rho": 0.9, "separation": 4.0, "lr": 0.1, "start_std": 0.5}
PRESETS: dict[str, dict[str, Any]] = {
    "Mean field under-estimates variance": {**_FIT, "target": "gaussian", "divergence": "reverse", "family": "factorized", "start_x1": 1.5, "start_x2": -1.5},
    "Forward KL covers both modes": {**_FIT, "target": "mixture", "divergence": "forward", "family": "full", "start_x1": 1.5, "start_x2": -1.5},
    "Reverse KL picks one mode": {**_FIT, "target": "mixture", "divergence": "reverse", "family": "full", "start_x1": 1.5, "start_x2": 0.5},
    "Full covariance q is exact for a Gaussian p": {**_FIT, "target": "gaussian", "divergence": "reverse", "family": "full", "start_x1": 1.5, "start_x2": -1.5},
}
"""The lessons (section 19.4, figure 3.6). Measured: with ρ = 0.9 the factorized KL(q‖p) fit has variances
1 - ρ² = 0.19 against p's marginal variances 1; from (1.5, 0.5) KL(q‖p) settles on the mode at (1.41, 1.41) with
the mode's covariance; KL(p‖q) ends on the mixture's mean 0 and covariance."""


def make_target(params: Mapping[str, Any]) -> kl.Target:
    """The target p the parameters name."""
    if params["target"] == "gaussian":
        return kl.correlated_gaussian(float(params["rho"]))
    return kl.two_mode_mixture(float(params["separation"]))


class WhichKLTask:
    """A Gaussian q fitted to p by gradient descent on KL(q || p) or KL(p || q), one step per step.

    Each step evaluates both divergences by quadrature (:data:`grid`), takes a projected gradient step
    (:func:`engine.inference.which_kl.gradient_step`) on the chosen one and reports both, before the step, with the
    value at the closed-form optimum where there is one (``kl_optimum``). Target and fit settings act live.
    """

    PARAMS = PARAMS
    divergence_hint = "lower the step size η"

    def __init__(self, grid: kl.Grid | None = None, view_points: int = 81):
        self.grid = grid if grid is not None else kl.make_grid()
        self.view_axis = np.linspace(-VIEW, VIEW, view_points)
        x1, x2 = np.meshgrid(self.view_axis, self.view_axis)
        self.view_points = torch.as_tensor(np.stack([x1.ravel(), x2.ravel()], axis=1), dtype=torch.float64)
        self._target_key: tuple | None = None
        self._optimum_values: dict[tuple, float | None] = {}

    def _use_target(self, params: Mapping[str, Any]) -> None:
        """Build p (its log density on the quadrature grid and its density in the view) when its settings changed."""
        key = (params["target"], float(params["rho"]), float(params["separation"]))
        if key == self._target_key:
            return
        self._target_key, self.target = key, make_target(params)
        self.log_p = kl.target_log_density(self.target, self.grid.points)
        self.p_view = torch.exp(kl.target_log_density(self.target, self.view_points)).numpy().reshape(len(self.view_axis), -1)

    def shared_data(self) -> tuple:
        """What a copy of this task shares (engine.timeline): the quadrature grid, the same for every target."""
        return (self.grid,)

    def reset(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)
        std = float(params["start_std"])
        self.theta = kl.theta_of(np.array([params["start_x1"], params["start_x2"]], float), std**2 * np.eye(2), "full")
        self._use_target(params)

    def divergences(self, family: str) -> dict[str, float]:
        """KL(q || p) and KL(p || q) at the current q, by quadrature."""
        with torch.no_grad():
            return {f"kl_{w}": float(v) for w, v in kl.both_divergences(self.theta, self.log_p, self.grid, family).items()}

    def optimum(self, params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
        """The closed-form optimum of the chosen divergence over the chosen family, when there is one."""
        return kl.closed_form_optimum(self.target, params["divergence"], params["family"])

    def optimum_divergence(self, params: Mapping[str, Any]) -> float | None:
        """The chosen divergence at the closed-form optimum (by the same quadrature), when there is one."""
        key = (self._target_key, params["divergence"], params["family"])
        if key not in self._optimum_values:
            optimum = self.optimum(params)
            with torch.no_grad():
                theta = kl.theta_of(*optimum, params["family"]) if optimum is not None else None
                self._optimum_values[key] = None if theta is None else float(kl.divergence(theta, self.log_p, self.grid, params["divergence"], params["family"]))
        return self._optimum_values[key]

    def step(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        self.params = dict(params)
        self._use_target(params)
        family, which = params["family"], params["divergence"]
        values, grad = kl.divergences_and_gradient(self.theta, self.log_p, self.grid, which, family)
        metrics = {f"kl_{w}": v for w, v in values.items()}
        optimum = self.optimum_divergence(params)
        if optimum is not None:
            metrics["kl_optimum"] = optimum
        self.theta = kl.gradient_step(self.theta, grad, float(params["lr"]), family)
        return metrics

    def q_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """q's mean and covariance now, in the family the run uses."""
        mean, cov = kl.q_moments(self.theta, self.params["family"])
        return mean.detach().numpy().copy(), cov.detach().numpy().copy()

    def nonfinite(self) -> str | None:
        return None if bool(torch.isfinite(self.theta).all()) else "q's parameters"

    def state(self) -> torch.Tensor:
        return self.theta.clone()

    def restore(self, state: torch.Tensor) -> None:
        self.theta = state.clone()

    def arrays(self) -> Mapping[str, np.ndarray]:
        """What the picture draws: p's density on the view grid, q's mean, covariance and 1- and 2-sigma ellipses, the
        optimum's ellipses (none when there is no closed form), p's component means, both divergences now (reverse,
        forward) and the minimized one at the optimum (empty when there is no closed form)."""
        mean, cov = self.q_moments()
        optimum = self.optimum(self.params)
        empty = np.zeros((len(RADII), 0, 2))
        return {
            "axis": self.view_axis,
            "p_density": self.p_view,
            "q_mean": mean,
            "q_cov": cov,
            "q_ellipses": np.stack([kl.covariance_ellipse(mean, cov, r) for r in RADII]),
            "optimum_ellipses": np.stack([kl.covariance_ellipse(*optimum, r) for r in RADII]) if optimum is not None else empty,
            "modes": self.target.means,
            "kl_now": np.array(list(self.divergences(self.params["family"]).values())),
            "kl_optimum": np.array([v] if (v := self.optimum_divergence(self.params)) is not None else []),
        }


def fit_q(params: Mapping[str, Any], steps: int, task: WhichKLTask | None = None) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Run ``steps`` gradient steps from Reset with ``params`` (completed with the defaults): q's final mean and
    covariance, and the minimized divergence before each step (its curve on the page)."""
    task = task if task is not None else WhichKLTask()
    full = PARAMS.complete(params)
    task.reset(full)
    curve = [task.step(full)[f"kl_{full['divergence']}"] for _ in range(steps)]
    mean, cov = task.q_moments()
    return mean, cov, curve
