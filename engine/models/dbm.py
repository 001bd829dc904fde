"""Deep Boltzmann machines, in the notation of the Deep Learning book (section 20.4).

Binary units in layers v = x0, h1 = x1, ..., hL = xL (L = 2 or 3 hidden layers);
weights W1 ... WL (W_l is (n_{l-1}, n_l)), biases b (visible) and c1 ... cL (hidden)::

    E(v, h1, h2) = -b'v - c1'h1 - c2'h2 - v'W1 h1 - h1'W2 h2          (eq. 20.25, with biases)

The layers form a bipartite graph: the even layers (v, h2) are conditionally
independent given the odd ones (h1, h3) and vice versa (eqs. 20.26-20.27), so
Gibbs sampling alternates two blocks, and every quantity that sums over one
block can do so analytically (a softplus per unit).

Mean-field inference (section 20.4.2) fits a factorial Q(h|v) = prod_l prod_j mu_l,j^h (1 - mu_l,j)^(1-h)
by the fixed-point updates (eqs. 20.33-20.34 for two hidden layers)::

    mu1_j = sigmoid(sum_i v_i W1_ij + sum_k W2_jk mu2_k + c1_j)
    mu2_k = sigmoid(sum_j mu1_j W2_jk + c2_k)

and its variational lower bound (eq. 20.31, here with biases) up to log Z::

    L(v, Q) + log Z = E_Q[-E(v, h)] + H(Q).

Everything is available at an inverse temperature ``beta`` (P_beta proportional to
exp(-beta E)): annealed importance sampling walks beta from 0 to 1.
Vectors are rows: a batch of visible vectors is (N, n_visible).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from engine import checkpoint
from engine.models.rbm import binary_states

MIN_HIDDEN_LAYERS, MAX_HIDDEN_LAYERS = 2, 3
MAX_UNITS = 4096
"""The largest layer a DBM may have (the lab trains on CPUs)."""
MAX_ENUMERABLE = 22
"""``exact_log_z`` enumerates at most 2**22 joint states of the odd layers."""
SCHEDULES = ("sequential", "parallel")
INITS = ("bottom_up", "uniform", "zeros")
MAX_MF_ITER = 1000


def check_sizes(sizes: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """ValueError unless ``sizes`` is (n_visible, n1, n2[, n3]) with every layer in [1, MAX_UNITS]."""
    sizes = tuple(int(n) for n in sizes)
    hidden = len(sizes) - 1
    if not MIN_HIDDEN_LAYERS <= hidden <= MAX_HIDDEN_LAYERS:
        raise ValueError(f"a DBM has {MIN_HIDDEN_LAYERS} or {MAX_HIDDEN_LAYERS} hidden layers, got {hidden} (sizes {sizes})")
    for i, n in enumerate(sizes):
        if not 1 <= n <= MAX_UNITS:
            name = "n_visible" if i == 0 else f"n{i} (hidden layer {i})"
            raise ValueError(f"{name} must be between 1 and {MAX_UNITS}, got {n}")
    return sizes


def check_mean_field(n_iter: int, damping: float, schedule: str) -> None:
    """ValueError naming the parameter and its allowed range."""
    if not 0 <= int(n_iter) <= MAX_MF_ITER:
        raise ValueError(f"mean-field iterations must be between 0 and {MAX_MF_ITER}, got {n_iter}")
    if not 0.0 <= float(damping) < 1.0:
        raise ValueError(f"damping must be in [0, 1), got {damping}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")


@dataclass(frozen=True)
class DBMConfig:
    """The shape of a DBM: what a checkpoint's JSON config records."""

    sizes: tuple[int, ...]
    image_shape: tuple[int, int] | None = None


@dataclass
class MeanFieldTrace:
    """What ``mean_field`` did, iteration by iteration (index 0 = the initial Q).

    ``mu``: the final mean-field parameters, one (N, n_l) tensor per hidden layer.
    ``bound``: (n_iter + 1, N) values of L(v, Q) + log Z = E_Q[-E] + H(Q).
    ``change``: (n_iter, N) max_l,j |mu_new - mu_old| of each iteration.
    ``history``: mu after every iteration (index 0 = initial), when ``record=True``.
    """

    mu: list[torch.Tensor]
    bound: torch.Tensor
    change: torch.Tensor
    history: list[list[torch.Tensor]] = field(default_factory=list)


class DBM:
    """A binary DBM with ``W[l-1]`` = W_l (n_{l-1}, n_l) and ``bias[l]`` (b for l = 0, c_l above)."""

    def __init__(
        self,
        sizes: tuple[int, ...] | list[int],
        *,
        image_shape: tuple[int, int] | None = None,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ):
        sizes = check_sizes(sizes)
        self.config = DBMConfig(sizes, tuple(image_shape) if image_shape else None)
        kw = {"device": device, "dtype": dtype}
        self.W = [torch.zeros(sizes[l - 1], sizes[l], **kw) for l in range(1, len(sizes))]
        self.bias = [torch.zeros(n, **kw) for n in sizes]

    # ------------------------------------------------------------------ shape and parameters

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.config.sizes

    @property
    def n_hidden_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def device(self) -> torch.device:
        return self.W[0].device

    @property
    def dtype(self) -> torch.dtype:
        return self.W[0].dtype

    def parameters(self) -> dict[str, torch.Tensor]:
        """W1 ... WL, b (visible bias), c1 ... cL (hidden biases), by book name."""
        p = {f"W{l + 1}": w for l, w in enumerate(self.W)}
        p["b"] = self.bias[0]
        p.update({f"c{l}": self.bias[l] for l in range(1, len(self.bias))})
        return p

    def init_random(self, generator: torch.Generator | None = None, std: float = 0.01) -> DBM:
        """Weights ~ N(0, std^2), biases zero."""
        for w in self.W:
            w.normal_(0.0, std, generator=generator)
        for c in self.bias:
            c.zero_()
        return self

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> DBM:
        """A copy on ``device`` / in ``dtype`` (float64 for exact computations)."""
        other = DBM(self.sizes, image_shape=self.config.image_shape, device=device or self.device, dtype=dtype or self.dtype)
        other.load_state(self.parameters())
        return other

    def copy(self) -> DBM:
        return self.to()

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        """Copy parameters in place from tensors of the same names and shapes."""
        for name, t in self.parameters().items():
            t.copy_(tensors[name])

    # ------------------------------------------------------------------ energy and conditionals

    def energy(self, x: list[torch.Tensor]) -> torch.Tensor:
        """E(v, h1, ..., hL) = -sum_l bias_l'x_l - sum_l x_{l-1}'W_l x_l (eq. 20.25 with biases), one value per row."""
        e = -sum(xl @ bl for xl, bl in zip(x, self.bias))
        for l, w in enumerate(self.W, start=1):
            e = e - ((x[l - 1] @ w) * x[l]).sum(-1)
        return e

    def layer_input(self, l: int, x: list[torch.Tensor]) -> torch.Tensor:
        """The total input to layer l from its neighbours: bias_l + x_{l-1}'W_l + W_{l+1} x_{l+1}."""
        if l > 0:
            a = torch.addmm(self.bias[l], x[l - 1], self.W[l - 1])
            return a.addmm_(x[l + 1], self.W[l].T) if l < self.n_hidden_layers else a
        return torch.addmm(self.bias[l], x[l + 1], self.W[l].T)

    def prob_layer(self, l: int, x: list[torch.Tensor], beta: float = 1.0) -> torch.Tensor:
        """P(x_l = 1 | x_{l-1}, x_{l+1}) = sigmoid(beta * layer input) (eqs. 20.26-20.27)."""
        return torch.sigmoid(beta * self.layer_input(l, x))

    def odd_layers(self) -> list[int]:
        return list(range(1, len(self.sizes), 2))

    def even_layers(self) -> list[int]:
        return list(range(0, len(self.sizes), 2))

    # ------------------------------------------------------------------ two-block Gibbs sampling

    def gibbs_sweep(
        self,
        x: list[torch.Tensor],
        beta: float = 1.0,
        generator: torch.Generator | None = None,
        clamp_visible: bool = False,
        observed: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        """One sweep of the two-block Gibbs sampler (section 20.4.1): all odd layers given the even
        ones, then all even layers given the odd ones. Returns a new list of layer states.

        ``clamp_visible`` keeps v fixed: the chain then samples the posterior P(h | v).
        ``observed`` (a boolean mask over the visible units) keeps only those pixels fixed: the free
        pixels are resampled with the even block (they are conditionally independent of h2 given h1,
        eq. 20.27), so the chain samples P(v_free, h | v_observed), whose h-marginal is the posterior
        given the observed pixels alone."""
        x = list(x)
        for block in (self.odd_layers(), self.even_layers()):
            probs = {l: self.prob_layer(l, x, beta) for l in block if not (l == 0 and clamp_visible)}
            for l, p in probs.items():
                new = torch.bernoulli(p, generator=generator)
                x[l] = torch.where(observed.to(new.device), x[l], new) if (l == 0 and observed is not None) else new
        return x

    def posterior_gibbs(
        self,
        v: torch.Tensor,
        observed: torch.Tensor,
        n_chains: int,
        burn_in: int,
        keep: int,
        generator: torch.Generator | None = None,
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Monte Carlo marginals of the true posterior P(v_free, h1, ..., hL | v_observed) of one image.

        ``v`` is (1, n_visible), read only where ``observed`` is True. ``n_chains`` two-block Gibbs
        chains with the observed pixels clamped (:meth:`gibbs_sweep`) start from v with fair coins in
        the free pixels and Bernoulli draws of a bottom-up pass for h; after ``burn_in`` sweeps the
        states of the next ``keep`` sweeps are averaged. Returns (means, last states): each a list
        [v, h1, ..., hL]; means are (1, n_l), the observed pixels of the v mean equal v.
        """
        observed = observed.to(device=v.device, dtype=torch.bool).reshape(-1)
        coins = torch.bernoulli(torch.full((n_chains, self.sizes[0]), 0.5, device=v.device, dtype=v.dtype), generator=generator)
        v0 = torch.where(observed, v.expand(n_chains, -1), coins)
        x = [v0, *[torch.bernoulli(m, generator=generator) for m in self.bottom_up_guess(v0)]]
        sums = [torch.zeros(1, n, device=v.device, dtype=v.dtype) for n in self.sizes]
        for sweep in range(int(burn_in) + int(keep)):
            x = self.gibbs_sweep(x, generator=generator, observed=observed)
            if sweep >= burn_in:
                for s, t in zip(sums, x):
                    s += t.mean(0, keepdim=True)
        return [s / max(1, int(keep)) for s in sums], x

    def random_state(self, n: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """n joint states with every unit a fair coin flip."""
        return [torch.bernoulli(torch.full((n, s), 0.5, device=self.device, dtype=self.dtype), generator=generator) for s in self.sizes]

    def sample(self, n: int, sweeps: int, generator: torch.Generator | None = None, x: list[torch.Tensor] | None = None) -> list[torch.Tensor]:
        """n joint samples after ``sweeps`` two-block Gibbs sweeps from random states (or from ``x``)."""
        x = self.random_state(n, generator) if x is None else x
        for _ in range(sweeps):
            x = self.gibbs_sweep(x, generator=generator)
        return x

    # ------------------------------------------------------------------ mean-field inference

    def bottom_up_guess(self, v: torch.Tensor) -> list[torch.Tensor]:
        """One bottom-up pass, the usual initialisation of mean field (Salakhutdinov & Hinton 2009):
        mu_l = sigmoid(2 mu_{l-1}'W_l + c_l) below the top layer (the doubled weights stand in for
        the missing top-down input), mu_L = sigmoid(mu_{L-1}'W_L + c_L)."""
        mu, below = [], v
        for l in range(1, len(self.sizes)):
            scale = 1.0 if l == self.n_hidden_layers else 2.0
            below = torch.sigmoid(scale * (below @ self.W[l - 1]) + self.bias[l])
            mu.append(below)
        return mu

    def initial_mu(self, v: torch.Tensor, init: str | list[torch.Tensor] = "bottom_up") -> list[torch.Tensor]:
        """The starting Q: a bottom-up pass, all 0.5 (``uniform``), all 0 (``zeros``) or given tensors."""
        if not isinstance(init, str):
            return [m.to(v).clone() for m in init]
        if init == "bottom_up":
            return self.bottom_up_guess(v)
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)} or a list of tensors, got {init!r}")
        value = 0.5 if init == "uniform" else 0.0
        return [torch.full((v.shape[0], n), value, device=v.device, dtype=v.dtype) for n in self.sizes[1:]]

    def mean_field_targets(self, v: torch.Tensor, mu: list[torch.Tensor], layers: list[int]) -> dict[int, torch.Tensor]:
        """The right-hand sides of eqs. 20.33-20.34 for the hidden ``layers`` (1-based), given v and mu."""
        x = [v, *mu]
        return {l: torch.sigmoid(self.layer_input(l, x)) for l in layers}

    def mean_field_step(self, v: torch.Tensor, mu: list[torch.Tensor], damping: float = 0.0, schedule: str = "sequential") -> list[torch.Tensor]:
        """One mean-field iteration (eqs. 20.33-20.34); returns the new mu.

        ``sequential``: the bipartite schedule: the odd hidden layers (h1, h3) from the current even
        ones, then the even hidden layers (h2) from the new odd ones. Each half maximises the bound
        over its block exactly, so the bound never decreases. ``parallel``: every layer from the
        previous iteration's mu at once (may oscillate). ``damping`` d: mu <- d mu + (1 - d) target.
        """
        mu = list(mu)
        hidden = list(range(1, len(self.sizes)))
        blocks = [[l for l in hidden if l % 2 == 1], [l for l in hidden if l % 2 == 0]] if schedule == "sequential" else [hidden]
        for block in blocks:
            for l, target in self.mean_field_targets(v, mu, block).items():
                mu[l - 1] = target if damping == 0.0 else damping * mu[l - 1] + (1.0 - damping) * target
        return mu

    def mean_field(
        self,
        v: torch.Tensor,
        n_iter: int,
        damping: float = 0.0,
        schedule: str = "sequential",
        init: str | list[torch.Tensor] = "bottom_up",
        record: bool = False,
    ) -> MeanFieldTrace:
        """``n_iter`` mean-field iterations from ``init`` (section 20.4.2), with the bound and the
        update size after each one (see :class:`MeanFieldTrace`)."""
        check_mean_field(n_iter, damping, schedule)
        mu = self.initial_mu(v, init)
        bounds, changes = [self.variational_bound(v, mu)], []
        history = [mu] if record else []
        for _ in range(int(n_iter)):
            new = self.mean_field_step(v, mu, damping, schedule)
            changes.append(torch.stack([(a - b).abs().amax(-1) for a, b in zip(new, mu)]).amax(0))
            mu = new
            bounds.append(self.variational_bound(v, mu))
            if record:
                history.append(mu)
        empty = torch.zeros(0, v.shape[0], device=v.device, dtype=v.dtype)
        return MeanFieldTrace(mu, torch.stack(bounds), torch.stack(changes) if changes else empty, history)

    def variational_bound(self, v: torch.Tensor, mu: list[torch.Tensor]) -> torch.Tensor:
        """L(v, Q) + log Z = E_Q[-E(v, h)] + H(Q) for a factorial Q with means mu (eq. 20.31 with biases).

        Under Q the layers are independent, so E_Q[x_{l-1}'W_l x_l] = mu_{l-1}'W_l mu_l.
        Subtract log Z for a lower bound on log P(v).
        """
        return -self.energy([v, *mu]) + sum(bernoulli_entropy(m) for m in mu)

    def fixed_point_residual(self, v: torch.Tensor, mu: list[torch.Tensor]) -> torch.Tensor:
        """max over layers and units of |mu_l - sigmoid(layer input)|: zero at a fixed point of eqs. 20.33-20.34."""
        targets = self.mean_field_targets(v, mu, list(range(1, len(self.sizes))))
        return torch.stack([(mu[l - 1] - t).abs().amax(-1) for l, t in targets.items()]).amax(0)

    # ------------------------------------------------------------------ odd layers with the even ones summed out

    def even_inputs(self, odd: dict[int, torch.Tensor], v: torch.Tensor | None = None) -> dict[int, torch.Tensor]:
        """The total input bias_l + x_{l-1}'W_l + W_{l+1} x_{l+1} of every even layer l to be summed out,
        given the odd layers (the visible layer is left out when ``v`` holds it)."""
        x: list[torch.Tensor | None] = [None] * len(self.sizes)
        for l, t in odd.items():
            x[l] = t
        inputs = {}
        for l in self.even_layers():
            if l == 0 and v is not None:
                continue
            a = self.bias[l]
            if l > 0:
                a = a + x[l - 1] @ self.W[l - 1]
            if l < self.n_hidden_layers:
                a = a + x[l + 1] @ self.W[l].T
            inputs[l] = a
        return inputs

    def odd_linear_terms(self, odd: dict[int, torch.Tensor], v: torch.Tensor | None = None) -> torch.Tensor:
        """-E restricted to the terms that do not involve a summed-out unit: sum_odd c_l'h_l, plus
        b'v + v'W1 h1 when ``v`` is held fixed."""
        total = sum(odd[l] @ self.bias[l] for l in odd)
        if v is not None:
            total = total + v @ self.bias[0] + ((v @ self.W[0]) * odd[1]).sum(-1)
        return total

    def log_unnormalized_odd(self, odd: dict[int, torch.Tensor], beta: float = 1.0, v: torch.Tensor | None = None) -> torch.Tensor:
        """log sum_{even layers} exp(-beta E): the unnormalised log-probability of the odd layers at
        inverse temperature beta, each even unit summed out analytically (a softplus of its input).

        With ``v`` given, the visible layer is held at v instead of summed out: the result is then
        log sum_{even hidden} exp(-beta E(v, h)) as a function of the odd layers.
        """
        total = beta * self.odd_linear_terms(odd, v)
        for a in self.even_inputs(odd, v).values():
            total = total + F.softplus(beta * a).sum(-1)
        return total

    def _odd_states(self) -> tuple[list[int], int]:
        layers = self.odd_layers()
        n = sum(self.sizes[l] for l in layers)
        if n > MAX_ENUMERABLE:
            raise ValueError(f"exact computations enumerate the odd layers ({n} units); at most {MAX_ENUMERABLE} are allowed: use AIS")
        return layers, n

    def _split_odd(self, states: torch.Tensor, layers: list[int]) -> dict[int, torch.Tensor]:
        out, start = {}, 0
        for l in layers:
            out[l] = states[:, start : start + self.sizes[l]]
            start += self.sizes[l]
        return out

    def exact_log_z(self, beta: float = 1.0) -> float:
        """log Z_beta by enumerating every joint state of the odd layers (even layers summed out), in float64."""
        m = self.to(dtype=torch.float64)
        layers, n = m._odd_states()
        chunks = [m.log_unnormalized_odd(m._split_odd(s, layers), beta) for s in binary_states(n, device=m.device)]
        return torch.logsumexp(torch.cat(chunks), 0).item()

    def exact_log_unnormalized(self, v: torch.Tensor) -> torch.Tensor:
        """log P*(v) = log sum_h exp(-E(v, h)) per row of v, enumerating the odd layers (float64)."""
        m = self.to(dtype=torch.float64)
        v = v.to(torch.float64)
        layers, n = m._odd_states()
        per_v = []
        for row in v:
            chunks = [m.log_unnormalized_odd(m._split_odd(s, layers), 1.0, v=row[None, :]) for s in binary_states(n, device=m.device)]
            per_v.append(torch.logsumexp(torch.cat(chunks), 0))
        return torch.stack(per_v)

    def exact_log_prob(self, v: torch.Tensor) -> torch.Tensor:
        """log P(v) = log P*(v) - log Z, exactly (tiny DBMs only)."""
        return self.exact_log_unnormalized(v) - self.exact_log_z()

    # ------------------------------------------------------------------ checkpoints

    def save(self, path: str | os.PathLike, extra: dict[str, Any] | None = None, dtype: torch.dtype = torch.float32) -> None:
        """Write the parameters (in ``dtype``) in the one checkpoint schema: config = sizes and image shape, then ``extra``."""
        checkpoint.write(path, "dbm", {k: t.to(dtype) for k, t in self.parameters().items()}, self.checkpoint_config(), extra)

    def checkpoint_config(self) -> dict[str, Any]:
        """What rebuilds this DBM: its layer sizes and image shape (a checkpoint's ``config``)."""
        return {"sizes": list(self.sizes), "image_shape": list(self.config.image_shape) if self.config.image_shape else None}

    @classmethod
    def from_checkpoint(cls, ckpt: checkpoint.Checkpoint, device: torch.device | str = "cpu") -> DBM:
        """The DBM a checkpoint read by :func:`engine.checkpoint.read` holds; CheckpointError names the file when it does not fit."""
        try:
            model = cls(ckpt.config["sizes"], image_shape=ckpt.config.get("image_shape"), device=device)
        except (KeyError, TypeError, ValueError) as err:
            raise ckpt.fail(f"not a DBM config ({err})") from err
        checkpoint.expect_shapes(ckpt.path, ckpt.tensors, {k: tuple(t.shape) for k, t in model.parameters().items()})
        bad = [k for k in model.parameters() if not torch.isfinite(ckpt.tensors[k]).all()]
        if bad:
            raise checkpoint.CheckpointError(f"{ckpt.path}: {', '.join(bad)} hold NaN or Inf")
        model.load_state(ckpt.tensors)
        return model

    @classmethod
    def load(cls, path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[DBM, dict[str, Any]]:
        """Read a checkpoint written by :meth:`save`: (model, its ``extra`` record); CheckpointError names the file."""
        ckpt = checkpoint.read(path, "dbm", device)
        return cls.from_checkpoint(ckpt, device), dict(ckpt.extra)


def bernoulli_entropy(mu: torch.Tensor) -> torch.Tensor:
    """H(Q) of a factorial Bernoulli layer: -sum_j mu_j log mu_j + (1 - mu_j) log(1 - mu_j), per row."""
    return -(torch.special.xlogy(mu, mu) + torch.special.xlogy(1 - mu, 1 - mu)).sum(-1)
