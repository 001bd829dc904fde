"""The EM page's run: a Gaussian mixture on 2-D points fitted by EM, one half-step (an E-step or an M-step) per
step, so the picture shows the E-step closing the gap KL(q ‖ p(h | v)) and the M-step raising L (book section 19.2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.inference import em
from engine.params import RESET, Param, Params

START, E_STEP, M_STEP = 0, 1, 2
"""The kinds of the points of the history: θ⁽⁰⁾ with uniform q, after an E-step, after an M-step."""

EM_PARAMS = Params(
    Param("layout", "three blobs", str, choices=em.LAYOUTS, when=RESET, label="Data",
          help="Seeded 2-D Gaussian blobs: well separated, overlapping, long and thin, or five of them."),
    Param("n_points", 300, int, 30, 600, step=30, when=RESET, label="Points", symbol="N"),
    Param("k", 3, int, 1, 8, step=1, when=RESET, label="Components", symbol="K", help="The number of Gaussians in the mixture."),
    Param("init", "k-means++", str, choices=em.INITS, when=RESET, label="Start θ⁽⁰⁾ from",
          labels={"k-means++": "k-means++ means", "random points": "random data points", "bad": "a bad start (one corner)"},
          help="Means of θ⁽⁰⁾; equal weights, the data's covariance (a bad start: the K points in one corner, covariances ÷ 100). q starts uniform."),
    Param("e_fraction", 1.0, float, 0.05, 1.0, step=0.05, label="E-step: share of points updated",
          help="1: the full E-step (the gap closes). Below 1: generalized EM's partial E-step, a random share of the points get their "
               "posterior and the others keep their q: the gap only shrinks, but L still never falls."),
    Param("n_iter", 40, int, 1, 200, step=1, label="Iterations", help="EM iterations (E-step + M-step) after which the run stops."),
    Param("seed", 0, int, 0, 9999, when=RESET, label="Seed", help="The data, the start and the points a partial E-step updates."),
)
"""The EM page's parameters."""

_CLIMB = {"layout": "three blobs", "n_points": 300, "k": 3, "init": "k-means++", "e_fraction": 1.0, "n_iter": 40, "seed": 0}
PRESETS: dict[str, dict[str, Any]] = {
    "EM climbs": _CLIMB,
    "A bad start finds a local optimum": {**_CLIMB, "init": "bad", "seed": 2},
    "Generalized EM (partial E-step) still climbs": {**_CLIMB, "layout": "overlapping", "e_fraction": 0.2, "n_iter": 60},
}
"""The EM page's lessons. Measured (300 points): three blobs from k-means++ converge in 9-18 iterations (seeds 0-5) to
log p(v)/N between −3.21 and −3.07; from the bad start, seed 2 stops at −3.535 nats per point against −3.205 from
k-means++ on the same data (one component covers two blobs, two split the third); with a partial E-step (20% of the
points per E-step) L rises at every half-step while the gap never closes."""


FALL_TOLERANCE = 1e-12
"""A fall of L or log p(v; θ) between half-steps counts when it exceeds this share of the value (below it: rounding)."""


def falls(values: np.ndarray) -> int:
    """How many times a sequence fell between consecutive entries by more than :data:`FALL_TOLERANCE` of its size."""
    values = np.asarray(values, dtype=float)
    return int((np.diff(values) < -FALL_TOLERANCE * np.abs(values[:-1])).sum())


class EMTask:
    """EM on a Gaussian mixture, one half-step per step: E-step (or partial E-step) then M-step, for ``n_iter``
    iterations. The history records log p(v; θ), L(v, θ, q) and their gap after every half-step, in nats per point."""

    PARAMS = EM_PARAMS

    def shared_data(self) -> tuple:
        """What a copy of this task shares (engine.timeline): nothing, the points and θ are small."""
        return ()

    def reset(self, p: Mapping[str, Any]) -> None:
        self.v = em.blob_data(p["layout"], int(p["n_points"]), int(p["seed"]))
        self.rng = np.random.default_rng(int(p["seed"]) + 1)
        self.theta = em.initial_mixture(self.v, int(p["k"]), p["init"], self.rng)
        self.q = np.full((len(self.v), int(p["k"])), 1.0 / int(p["k"]))
        self.updated = np.zeros(len(self.v), dtype=bool)
        self.half_steps = 0
        self.kinds = [START]
        self.log_p, self.bounds, self.gaps = [], [], []
        self._record()

    def _record(self) -> None:
        n = len(self.v)
        self.log_p.append(em.log_likelihood(self.v, self.theta) / n)
        self.bounds.append(em.bound(self.v, self.theta, self.q) / n)
        self.gaps.append(em.gap(self.v, self.theta, self.q) / n)

    @property
    def iteration(self) -> int:
        """Completed EM iterations (M-steps taken)."""
        return self.half_steps // 2

    def step(self, p: Mapping[str, Any]) -> Mapping[str, float]:
        if self.iteration >= int(p["n_iter"]):
            return {}
        if self.half_steps % 2 == 0:
            if float(p["e_fraction"]) >= 1.0:
                self.q, self.updated = em.e_step(self.v, self.theta), np.ones(len(self.v), dtype=bool)
            else:
                self.q, self.updated = em.partial_e_step(self.v, self.theta, self.q, float(p["e_fraction"]), self.rng)
            self.kinds.append(E_STEP)
        else:
            self.theta = em.m_step(self.v, self.q)
            self.updated = np.zeros(len(self.v), dtype=bool)
            self.kinds.append(M_STEP)
        self.half_steps += 1
        self._record()
        return {"log_p": self.log_p[-1], "bound": self.bounds[-1], "gap": self.gaps[-1]}

    def arrays(self) -> Mapping[str, np.ndarray]:
        return {
            "v": self.v, "q": self.q.copy(), "updated": self.updated.copy(),
            "weights": self.theta.weights.copy(), "means": self.theta.means.copy(), "covariances": self.theta.covariances.copy(),
            "kinds": np.array(self.kinds), "log_p": np.array(self.log_p), "bound": np.array(self.bounds), "gap": np.array(self.gaps),
            "iteration": np.array(self.iteration), "half_steps": np.array(self.half_steps),
            "bound_falls": np.array(falls(self.bounds)), "log_p_falls": np.array(falls(self.log_p)),
        }  # fmt: skip
