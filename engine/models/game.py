"""Two-player games that show why GAN training can circle instead of converge.

Book section 20.10.4: the value function V(a, b) = a*b, with player a minimizing
and player b maximizing, has its only equilibrium at (0, 0); simultaneous
gradient steps spiral away from it. Mescheder, Geiger & Nowozin (2018), "Which
training methods for GANs do actually converge?": the Dirac-GAN, a generator
that is one point theta against a linear discriminator D(x) = psi * x with the
real data at 0, shows the same behaviour for real GAN losses, and which
regularizers (R1 gradient penalty, instance noise) cure it.

Everything here is exact float64 NumPy: each update rule is a small function,
a trajectory is the rule iterated, and the Jacobian of one update tells, through
the magnitudes of its eigenvalues, whether the iteration spirals out (> 1),
orbits (= 1) or converges (< 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RULES = ("simultaneous", "alternating", "extragradient", "optimistic", "consensus", "flow")
"""Update rules for the bilinear game; ``flow`` is the continuous-time gradient flow (the exact circle)."""


# --------------------------------------------------------------------------- the bilinear game V(a, b) = a*b


def bilinear_field(a: np.ndarray | float, b: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """The players' descent/ascent directions for V(a, b) = a*b: (-dV/da, +dV/db) = (-b, a)."""
    return -np.asarray(b, dtype=float), np.asarray(a, dtype=float)


def bilinear_matrix(lr: float, rule: str, gamma: float = 1.0) -> np.ndarray:
    """The linear map of one update of ``rule`` on V(a, b) = a*b, acting on the state vector.

    The state is (a, b) for every rule except ``optimistic``, whose state is
    (a_t, b_t, a_{t-1}, b_{t-1}) because the step uses the previous gradient.

    - simultaneous: a' = a - lr*b, b' = b + lr*a. The matrix is sqrt(1+lr^2) times
      a rotation, so the radius grows by exactly sqrt(1 + lr^2) per step.
    - alternating: a' = a - lr*b, then b' = b + lr*a' (b sees the new a).
      Determinant 1: for lr < 2 both eigenvalues lie on the unit circle and
      a^2 + b^2 - lr*a*b is conserved.
    - extragradient: a look-ahead step of size lr, then a step from the start with the look-ahead
      gradient: |eigenvalue|^2 = (1 - lr^2)^2 + lr^2 = 1 - lr^2 + lr^4 < 1 for 0 < lr < 1.
    - optimistic (OGDA): x' = x - 2*lr*g(x) + lr*g(x_prev).
    - consensus (Mescheder et al. 2017): the step follows v - gamma * grad(|v|^2 / 2)
      with v = (-b, a): |eigenvalue|^2 = (1 - lr*gamma)^2 + lr^2.
    - flow: the exact solution of da/dt = -b, db/dt = a over time lr: a rotation by lr.
    """
    if rule == "simultaneous":
        return np.array([[1.0, -lr], [lr, 1.0]])
    if rule == "alternating":
        return np.array([[1.0, -lr], [lr, 1.0 - lr * lr]])
    if rule == "extragradient":
        return np.array([[1.0 - lr * lr, -lr], [lr, 1.0 - lr * lr]])
    if rule == "optimistic":
        return np.array([[1.0, -2 * lr, 0.0, lr], [2 * lr, 1.0, -lr, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    if rule == "consensus":
        return np.array([[1.0 - lr * gamma, -lr], [lr, 1.0 - lr * gamma]])
    if rule == "flow":
        c, s = np.cos(lr), np.sin(lr)
        return np.array([[c, -s], [s, c]])
    raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")


def bilinear_trajectory(a0: float, b0: float, lr: float, steps: int, rule: str, gamma: float = 1.0) -> np.ndarray:
    """Iterate ``rule`` on V(a, b) = a*b from (a0, b0): an array (steps + 1, 2) of (a, b), row 0 the start.

    ``lr`` is the step size (for ``flow``, the time between rows); ``gamma`` the
    consensus weight. The optimistic rule starts with x_{-1} = x_0.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    m = bilinear_matrix(lr, rule, gamma)
    state = np.array([a0, b0, a0, b0] if rule == "optimistic" else [a0, b0], dtype=float)
    out = np.empty((steps + 1, 2))
    out[0] = a0, b0
    for t in range(1, steps + 1):
        state = m @ state
        out[t] = state[:2]
    return out


def bilinear_eigenvalues(lr: float, rule: str, gamma: float = 1.0) -> np.ndarray:
    """Eigenvalues of the update's Jacobian (complex), sorted by decreasing magnitude."""
    ev = np.linalg.eigvals(bilinear_matrix(lr, rule, gamma))
    return ev[np.argsort(-np.abs(ev), kind="stable")]


def spectral_radius(lr: float, rule: str, gamma: float = 1.0) -> float:
    """The largest eigenvalue magnitude: > 1 spirals out, = 1 orbits, < 1 converges."""
    return float(np.abs(bilinear_eigenvalues(lr, rule, gamma)).max())


def theory_radius(lr: float, rule: str, gamma: float = 1.0) -> float:
    """The closed-form spectral radius of each rule (see :func:`bilinear_matrix`)."""
    if rule == "simultaneous":
        return float(np.sqrt(1 + lr * lr))
    if rule in ("alternating", "flow"):
        return 1.0 if rule == "flow" or lr <= 2 else spectral_radius(lr, rule)
    if rule == "extragradient":
        return float(np.sqrt(1 - lr * lr + lr**4))
    if rule == "consensus":
        return float(np.sqrt((1 - lr * gamma) ** 2 + lr * lr))
    if rule == "optimistic":
        # z = a + ib obeys z_{t+1} = (1 + 2i lr) z_t - i lr z_{t-1}: roots of x^2 - (1 + 2i lr) x + i lr.
        return float(np.abs(np.roots([1.0, -(1 + 2j * lr), 1j * lr])).max())
    raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")


def alternating_invariant(traj: np.ndarray, lr: float) -> np.ndarray:
    """a^2 + b^2 - lr*a*b along a trajectory: the quantity alternating steps conserve exactly."""
    a, b = traj[:, 0], traj[:, 1]
    return a * a + b * b - lr * a * b


def radius(traj: np.ndarray) -> np.ndarray:
    """Distance of each point of a trajectory from the equilibrium (0, 0)."""
    return np.hypot(traj[:, 0], traj[:, 1])


# --------------------------------------------------------------------------- the Dirac-GAN

DIRAC_LOSSES = ("minimax", "nonsaturating", "wgan")
DIRAC_RULES = ("simultaneous", "alternating")
_HERMITE_NODES = 24


@dataclass(frozen=True)
class DiracGAN:
    """The Dirac-GAN (Mescheder et al. 2018, section 2.2): real data at 0, generated data at theta, D(x) = psi * x.

    ``loss``: the discriminator maximizes E_real[log sigma(D(x))] + E_fake[log sigma(-D(x))]
    (``minimax`` and ``nonsaturating``) or E_real[D(x)] - E_fake[D(x)] (``wgan``);
    the generator minimizes E_fake[log sigma(-D(x))] (``minimax``, the game of section 20.10.4),
    -E_fake[log sigma(D(x))] (``nonsaturating``) or -E_fake[D(x)] (``wgan``).

    ``r1``: the weight gamma of the R1 penalty (gamma / 2) E_real[|grad_x D(x)|^2] = gamma psi^2 / 2,
    subtracted from the discriminator's objective. ``noise``: the standard deviation of
    instance noise added to real and fake samples; expectations over it are exact
    (Gauss-Hermite quadrature), so trajectories stay deterministic.
    """

    loss: str = "minimax"
    lr: float = 0.1
    lr_d: float | None = None
    rule: str = "simultaneous"
    r1: float = 0.0
    noise: float = 0.0

    def __post_init__(self) -> None:
        if self.loss not in DIRAC_LOSSES:
            raise ValueError(f"loss must be one of {', '.join(DIRAC_LOSSES)}, got {self.loss!r}")
        if self.rule not in DIRAC_RULES:
            raise ValueError(f"rule must be one of {', '.join(DIRAC_RULES)}, got {self.rule!r}")
        if not self.lr > 0 or (self.lr_d is not None and not self.lr_d > 0):
            raise ValueError("learning rates must be > 0")
        if self.r1 < 0 or self.noise < 0:
            raise ValueError("r1 and noise must be >= 0")

    @property
    def d_lr(self) -> float:
        return self.lr if self.lr_d is None else self.lr_d

    def _noise(self) -> tuple[np.ndarray, np.ndarray]:
        """Quadrature nodes and weights for E over eps ~ N(0, noise^2) (one node at 0 without noise)."""
        if self.noise == 0:
            return np.zeros(1), np.ones(1)
        x, w = np.polynomial.hermite_e.hermegauss(_HERMITE_NODES)
        return self.noise * x, w / w.sum()

    def grad_psi(self, theta: float, psi: float) -> float:
        """d/dpsi of the discriminator's objective (with the R1 penalty), averaged over instance noise."""
        eps, w = self._noise()
        real, fake = eps, theta + eps
        if self.loss == "wgan":
            g = np.sum(w * real) - np.sum(w * fake)
        else:  # d/dpsi log sigma(psi x) = x sigma(-psi x);  d/dpsi log sigma(-psi x) = -x sigma(psi x)
            g = np.sum(w * real * _sigmoid(-psi * real)) - np.sum(w * fake * _sigmoid(psi * fake))
        return float(g - self.r1 * psi)

    def grad_theta(self, theta: float, psi: float) -> float:
        """d/dtheta of the generator's loss, averaged over instance noise."""
        eps, w = self._noise()
        fake = theta + eps
        if self.loss == "wgan":
            return -psi
        if self.loss == "minimax":  # d/dtheta log sigma(-psi x) = -psi sigma(psi x)
            return float(-psi * np.sum(w * _sigmoid(psi * fake)))
        return float(-psi * np.sum(w * _sigmoid(-psi * fake)))  # d/dtheta -log sigma(psi x)

    def update(self, theta: float, psi: float) -> tuple[float, float]:
        """One step: gradient descent for theta, ascent for psi; ``alternating`` moves D first, then G against the new D."""
        if self.rule == "simultaneous":
            return theta - self.lr * self.grad_theta(theta, psi), psi + self.d_lr * self.grad_psi(theta, psi)
        psi = psi + self.d_lr * self.grad_psi(theta, psi)
        return theta - self.lr * self.grad_theta(theta, psi), psi

    def trajectory(self, theta0: float, psi0: float, steps: int) -> np.ndarray:
        """(steps + 1, 2) array of (theta, psi), row 0 the start."""
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        out = np.empty((steps + 1, 2))
        out[0] = theta0, psi0
        for t in range(1, steps + 1):
            out[t] = self.update(*out[t - 1])
        return out

    def field(self, theta: np.ndarray, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The gradient vector field (-dL_G/dtheta, dL_D/dpsi) on a grid, for drawing arrows."""
        f = np.vectorize(lambda t, p: (-self.grad_theta(t, p), self.grad_psi(t, p)))
        return f(theta, psi)

    def jacobian(self, theta: float = 0.0, psi: float = 0.0, h: float = 1e-6) -> np.ndarray:
        """The 2x2 Jacobian of one update at (theta, psi), by central differences (the update is smooth)."""
        j = np.empty((2, 2))
        for k in range(2):
            e = np.zeros(2)
            e[k] = h
            up = np.array(self.update(theta + e[0], psi + e[1]))
            down = np.array(self.update(theta - e[0], psi - e[1]))
            j[:, k] = (up - down) / (2 * h)
        return j

    def eigenvalues(self, theta: float = 0.0, psi: float = 0.0) -> np.ndarray:
        """Eigenvalues of the update's Jacobian at (theta, psi) (default: the equilibrium), by decreasing magnitude."""
        ev = np.linalg.eigvals(self.jacobian(theta, psi))
        return ev[np.argsort(-np.abs(ev), kind="stable")]


def _sigmoid(t: np.ndarray | float) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(t, dtype=float)))
