"""Restricted Boltzmann machines, in the notation of the Deep Learning book (sections 16.7.1, 20.2, 20.5.1).

Binary (Bernoulli-Bernoulli) RBM, eq. 20.6::

    E(v, h) = -b'v - c'h - v'Wh          W: (n_visible, n_hidden), b: visible bias, c: hidden bias

Gaussian-Bernoulli RBM (section 20.5.1) with a diagonal precision ``beta_v``
(``precision``), here with a visible mean ``b``::

    E(v, h) = 1/2 sum_i beta_v,i (v_i - b_i)^2 - c'h - (beta_v * v)'Wh

Everything is available at an inverse temperature ``beta``
(P_beta(v, h) proportional to exp(-beta E(v, h))): beta = 1 is the model,
beta = 0 the uniform (or flat Gaussian) distribution. Annealed importance
sampling, tempering and "cold" sampling all use it.

Vectors are rows: a batch of visible vectors is (N, n_visible).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F

from engine import checkpoint

VISIBLE_KINDS = ("bernoulli", "gaussian")
MAX_ENUMERABLE = 24
"""``exact_log_z`` enumerates at most 2**24 states of the smaller layer."""


@dataclass(frozen=True)
class RBMConfig:
    """The shape of an RBM: what a checkpoint's JSON config records."""

    n_visible: int
    n_hidden: int
    visible: str = "bernoulli"
    learn_precision: bool = False
    image_shape: tuple[int, int] | None = None
    """(height, width) of one visible vector shown as an image, when it is one."""


class RBM:
    """An RBM with parameters ``W`` (n_visible, n_hidden), ``b`` (n_visible,), ``c`` (n_hidden,).

    A Gaussian RBM also has ``log_precision`` (n_visible,): beta_v = exp(log_precision),
    learned or fixed (``learn_precision``).
    """

    def __init__(
        self,
        n_visible: int,
        n_hidden: int,
        visible: str = "bernoulli",
        *,
        learn_precision: bool = False,
        image_shape: tuple[int, int] | None = None,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ):
        if visible not in VISIBLE_KINDS:
            raise ValueError(f"visible must be one of {', '.join(VISIBLE_KINDS)}, got {visible!r}")
        if n_visible < 1 or n_hidden < 1:
            raise ValueError(f"n_visible and n_hidden must be >= 1, got {n_visible} and {n_hidden}")
        self.config = RBMConfig(n_visible, n_hidden, visible, learn_precision, tuple(image_shape) if image_shape else None)
        kw = {"device": device, "dtype": dtype}
        self.W = torch.zeros(n_visible, n_hidden, **kw)
        self.b = torch.zeros(n_visible, **kw)
        self.c = torch.zeros(n_hidden, **kw)
        self.log_precision = torch.zeros(n_visible, **kw)

    # ------------------------------------------------------------------ shape and parameters

    @property
    def n_visible(self) -> int:
        return self.config.n_visible

    @property
    def n_hidden(self) -> int:
        return self.config.n_hidden

    @property
    def gaussian(self) -> bool:
        return self.config.visible == "gaussian"

    @property
    def precision(self) -> torch.Tensor:
        """beta_v: the visible precisions of a Gaussian RBM (ones for a binary RBM)."""
        return self.log_precision.exp() if self.gaussian else torch.ones_like(self.b)

    @property
    def device(self) -> torch.device:
        return self.W.device

    @property
    def dtype(self) -> torch.dtype:
        return self.W.dtype

    def parameters(self) -> dict[str, torch.Tensor]:
        """The parameter tensors by name (``log_precision`` only for a Gaussian RBM)."""
        p = {"W": self.W, "b": self.b, "c": self.c}
        if self.gaussian:
            p["log_precision"] = self.log_precision
        return p

    def init_random(self, generator: torch.Generator | None = None, std: float = 0.01) -> RBM:
        """W ~ N(0, std^2), biases zero (Hinton's practical guide, section 8)."""
        self.W.normal_(0.0, std, generator=generator)
        self.b.zero_()
        self.c.zero_()
        return self

    def init_visible_from_data(self, data: torch.Tensor, eps: float = 1e-3, unit_precision: bool = False) -> RBM:
        """Set b from data marginals: log(p / (1 - p)) for binary units (guide, section 8);
        the mean and precision 1 / variance for Gaussian ones (or precision 1 with ``unit_precision``,
        the guide's advice for standardised data, section 13.2)."""
        mean = data.mean(0).to(self.b)
        if self.gaussian:
            self.b.copy_(mean)
            if unit_precision:
                self.log_precision.zero_()
            else:
                self.log_precision.copy_(-data.var(0).to(self.b).clamp_min(eps).log())
        else:
            p = mean.clamp(eps, 1 - eps)
            self.b.copy_(torch.log(p) - torch.log1p(-p))
        return self

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> RBM:
        """A copy on ``device`` / in ``dtype`` (float64 for exact computations)."""
        other = RBM(
            self.n_visible, self.n_hidden, self.config.visible,
            learn_precision=self.config.learn_precision, image_shape=self.config.image_shape,
            device=device or self.device, dtype=dtype or self.dtype,
        )  # fmt: skip
        for name, t in self.parameters().items():
            getattr(other, name).copy_(t)
        return other

    def copy(self) -> RBM:
        return self.to()

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        """Copy parameters in place from tensors of the same names and shapes."""
        for name, t in self.parameters().items():
            t.copy_(tensors[name])

    # ------------------------------------------------------------------ energy and free energy

    def hidden_input(self, v: torch.Tensor) -> torch.Tensor:
        """c + v'W (binary) or c + (beta_v * v)'W (Gaussian): the total input to each hidden unit."""
        x = v * self.precision if self.gaussian else v
        return torch.addmm(self.c, x, self.W)

    def visible_input(self, h: torch.Tensor) -> torch.Tensor:
        """b + Wh: the logits of P(v=1|h) (binary) or the mean of P(v|h) (Gaussian)."""
        return torch.addmm(self.b, h, self.W.T)

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """E(v, h) (eq. 20.6; section 20.5.1 for Gaussian visible units), one value per row."""
        interaction = ((v * self.precision if self.gaussian else v) @ self.W * h).sum(-1)
        return self.visible_energy(v) - h @ self.c - interaction

    def visible_energy(self, v: torch.Tensor) -> torch.Tensor:
        """The terms of E that involve v alone: -b'v, or 1/2 sum beta_v (v - b)^2."""
        if self.gaussian:
            return 0.5 * ((v - self.b) ** 2 * self.precision).sum(-1)
        return -(v @ self.b)

    def free_energy(self, v: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        """F(v) = -log sum_h exp(-beta E(v, h)) / beta, so that P_beta(v) = exp(-beta F(v)) / Z_beta.

        The sum over h factorises over the hidden units (section 20.2.1): F(v) = visible terms - sum_j softplus(beta x_j) / beta,
        with x = c + v'W the hidden input.
        """
        return self.visible_energy(v) - F.softplus(beta * self.hidden_input(v)).sum(-1) / beta

    def log_unnormalized(self, v: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        """log P*_beta(v) = -beta F_beta(v): the unnormalised log-probability of v at inverse temperature beta."""
        return -beta * self.free_energy(v, beta)

    # ------------------------------------------------------------------ conditionals (eqs. 20.11-20.14)

    def prob_h_given_v(self, v: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        """P(h_j = 1 | v) = sigmoid(beta (c_j + v'W_:,j)) (eq. 20.14; Gaussian: v scaled by beta_v)."""
        return torch.sigmoid(beta * self.hidden_input(v))

    def mean_v_given_h(self, h: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        """E[v | h]: sigmoid(beta (b + Wh)) for binary units (eq. 20.16); b + Wh for Gaussian ones."""
        x = self.visible_input(h)
        return x if self.gaussian else torch.sigmoid(beta * x)

    def sample_h_given_v(self, v: torch.Tensor, beta: float = 1.0, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(h, P(h=1|v)): a factorial Bernoulli sample of the hidden layer and its probabilities."""
        p = self.prob_h_given_v(v, beta)
        return torch.bernoulli(p, generator=generator), p

    def sample_v_given_h(self, h: torch.Tensor, beta: float = 1.0, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(v, E[v|h]): binary units are Bernoulli; Gaussian ones N(b + Wh, 1 / (beta beta_v)) (section 20.5.1)."""
        mean = self.mean_v_given_h(h, beta)
        if self.gaussian:
            std = (beta * self.precision).rsqrt()
            noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
            return mean + std * noise, mean
        return torch.bernoulli(mean, generator=generator), mean

    # ------------------------------------------------------------------ exact partition function

    def exact_log_z(self, beta: float = 1.0) -> float:
        """log Z_beta by summing over every state of the smaller layer, in float64 with log-sum-exp.

        Binary RBM: Z = sum_v exp(-beta F(v)) or, summing v out analytically,
        Z = sum_h exp(beta c'h) prod_i (1 + exp(beta (b_i + W_i,: h))). A Gaussian RBM always
        enumerates h: Z = prod_i sqrt(2 pi / (beta beta_v,i)) sum_h exp(beta (c'h + sum_i beta_v,i (b_i m_i + m_i^2 / 2))),
        m = Wh. Allowed when the enumerated layer has at most 24 units.
        """
        m = self.to(dtype=torch.float64)
        enumerate_hidden = m.gaussian or m.n_hidden <= m.n_visible
        n = m.n_hidden if enumerate_hidden else m.n_visible
        if n > MAX_ENUMERABLE:
            layer = "hidden" if enumerate_hidden else "visible"
            raise ValueError(f"exact_log_z enumerates the smaller layer ({n} {layer} units); at most {MAX_ENUMERABLE} are allowed: use AIS")
        chunks = []
        for states in binary_states(n, device=m.device):
            if enumerate_hidden:
                chunks.append(m.log_unnormalized_hidden(states, beta))
            else:
                chunks.append(m.log_unnormalized(states, beta))
        total = torch.logsumexp(torch.cat(chunks), 0).item()
        if m.gaussian:
            total += 0.5 * torch.log(2 * math.pi / (beta * m.precision)).sum().item()
        return total

    def log_unnormalized_hidden(self, h: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        """log sum_v exp(-beta E(v, h)) for each row of h (binary v), or its h-dependent part (Gaussian v)."""
        m = self.visible_input(h) - self.b  # Wh
        if self.gaussian:
            return beta * (h @ self.c + (self.precision * (self.b * m + 0.5 * m * m)).sum(-1))
        return beta * (h @ self.c) + F.softplus(beta * (m + self.b)).sum(-1)

    # ------------------------------------------------------------------ checkpoints

    def save(self, path: str | os.PathLike, extra: dict[str, Any] | None = None) -> None:
        """Write the parameters and, in the one checkpoint schema, the config (:class:`RBMConfig`) and ``extra``."""
        checkpoint.write(path, "rbm", dict(self.parameters()), asdict(self.config), extra)

    @classmethod
    def load(cls, path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[RBM, dict[str, Any]]:
        """Read a checkpoint written by :meth:`save`: (model, its ``extra`` record).

        Raises CheckpointError naming the file when it is missing, corrupt, in another schema or not an RBM.
        """
        ckpt = checkpoint.read(path, "rbm", device)
        try:
            config = RBMConfig(**ckpt.config)
            model = cls(
                int(config.n_visible), int(config.n_hidden), config.visible, learn_precision=bool(config.learn_precision),
                image_shape=config.image_shape, device=device,
            )  # fmt: skip
        except (TypeError, ValueError) as err:
            raise ckpt.fail(f"not an RBM config ({err})") from err
        checkpoint.expect_shapes(path, ckpt.tensors, {k: tuple(t.shape) for k, t in model.parameters().items()})
        bad = [k for k in model.parameters() if not torch.isfinite(ckpt.tensors[k]).all()]
        if bad:
            raise checkpoint.CheckpointError(f"{ckpt.path}: {', '.join(bad)} hold NaN or Inf")
        model.load_state(ckpt.tensors)
        return model, dict(ckpt.extra)

    def load_into(self, path: str | os.PathLike) -> dict[str, Any]:
        """Replace this model's parameters with a checkpoint's; a checkpoint of another shape or a
        corrupt file raises CheckpointError naming the file and leaves this model untouched."""
        other, extra = RBM.load(path, self.device)
        if other.config.n_visible != self.n_visible or other.config.n_hidden != self.n_hidden or other.config.visible != self.config.visible:
            raise checkpoint.CheckpointError(
                f"{checkpoint.paths(path)[0]}: a {other.n_visible}x{other.n_hidden} {other.config.visible} RBM does not fit "
                f"this {self.n_visible}x{self.n_hidden} {self.config.visible} one"
            )
        self.load_state(other.parameters())
        return extra


def binary_states(n: int, chunk: int = 1 << 16, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64):
    """Every vector of {0, 1}^n, in chunks of at most ``chunk`` rows (row k is the binary code of k)."""
    bits = torch.arange(n - 1, -1, -1, device=device)
    total = 1 << n
    for start in range(0, total, chunk):
        codes = torch.arange(start, min(start + chunk, total), device=device)
        yield ((codes[:, None] >> bits) & 1).to(dtype)


def gibbs_step(
    rbm: RBM,
    v: torch.Tensor,
    beta: float = 1.0,
    generator: torch.Generator | None = None,
    clamp: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One block Gibbs step v -> h ~ P(h|v) -> v' ~ P(v|h) at inverse temperature beta (section 20.2).

    ``clamp`` (a boolean mask over visible units, (n_visible,) or like v) keeps those units at their
    current values: the chain then samples P(free units | clamped units).
    Returns (v', h, P(h=1|v)).
    """
    h, ph = rbm.sample_h_given_v(v, beta, generator)
    v_new, _ = rbm.sample_v_given_h(h, beta, generator)
    if clamp is not None:
        v_new = torch.where(clamp, v, v_new)
    return v_new, h, ph
