"""Training a DBM: greedy layer-wise pretraining from RBMs, then joint training (book section 20.4.5).

**Greedy pretraining** (section 20.4.5; Salakhutdinov & Hinton 2009) trains a stack of RBMs with
the RBM lab's trainer (``engine.models.rbm_training``), modified so that each layer of the DBM
gets about the right total input once the RBMs are joined:

- the bottom RBM (v, h1) sees two tied copies of its visible layer: P(h1 | v) = sigmoid(2 v'W1 + c1)
  while P(v | h1) = sigmoid(b + W1 h1), because in the DBM h1 also hears h2 from above;
- the top RBM (h_{L-1}, h_L) has two tied copies of its hidden layer: P(h_{L-1} | h_L) =
  sigmoid(2 W_L h_L + .), because in the DBM h_{L-1} also hears the layer below;
- a middle RBM (3 hidden layers: h1, h2) is an ordinary RBM whose weights are halved when it is
  put in the DBM, since its units then hear both neighbours.

A copy is made by training an RBM whose duplicated layer is twice as wide, and averaging the two
halves of its parameters (and of the optimiser's state) after every update: that is SGD on the
tied parameters with the mean of the two copies' gradients.

**Joint training** is algorithm 20.1 (variational stochastic maximum likelihood): the positive
phase uses the mean-field Q(h | v) (eqs. 20.33-20.34), the negative phase persistent two-block
Gibbs chains; for every weight matrix

    Delta W_l = <x_{l-1} x_l'>_(data, mu) - <x_{l-1} x_l'>_(chains)          (and likewise the biases).

**Centering** (Montavon & Mueller 2012) computes that gradient for the model rewritten around
offsets o_l, E = -sum_l (x_l - o_l)'b~_l - sum_l (x_{l-1} - o_{l-1})'W_l (x_l - o_l), and applies it
to the book's parameters: b_l = b~_l - W_l' o_{l-1} - W_{l+1} o_{l+1}. The offsets follow the
data-side means with a sliding average.

**Learned inference** (Salakhutdinov & Larochelle 2010; book section 19.5): a feed-forward network
mu_l = sigmoid(mu_{l-1}'R_l + r_l) trained to predict the mean-field result in one bottom-up pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine import checkpoint
from engine.eval.rbm_monitor import update_ratio
from engine.models.dbm import DBM, check_sizes
from engine.models.rbm import RBM
from engine.models.rbm_training import RBMTrainer, TrainConfig

COPIES = ("visible", "hidden", None)


# --------------------------------------------------------------------------- greedy pretraining


class LayerRBM:
    """One RBM of the pretraining stack, trained with the RBM lab's :class:`RBMTrainer`.

    ``copies``: ``visible`` (the bottom RBM: two tied copies of its input), ``hidden`` (the top
    RBM: two tied copies of its output) or None (a middle RBM). ``rbm`` is the RBM as trained
    (with the duplicated layer twice as wide); ``W``, ``b``, ``c`` are the single-copy parameters.
    """

    def __init__(self, n_in: int, n_out: int, copies: str | None, generator: torch.Generator | None = None, std: float = 0.01, data_mean: torch.Tensor | None = None):
        if copies not in COPIES:
            raise ValueError(f"copies must be one of {COPIES}, got {copies!r}")
        self.n_in, self.n_out, self.copies = n_in, n_out, copies
        wide_in = 2 * n_in if copies == "visible" else n_in
        wide_out = 2 * n_out if copies == "hidden" else n_out
        self.rbm = RBM(wide_in, wide_out)
        w = torch.randn(n_in, n_out, generator=generator) * std
        self.rbm.W.copy_(self._tile(w))
        if data_mean is not None:
            small = RBM(n_in, n_out).init_visible_from_data(data_mean[None, :])
            self.rbm.b.copy_(small.b.repeat(2) if copies == "visible" else small.b)
        mean = None if data_mean is None else (data_mean.repeat(2) if copies == "visible" else data_mean)
        self.trainer = RBMTrainer(self.rbm, generator, mean)

    def _tile(self, w: torch.Tensor) -> torch.Tensor:
        if self.copies == "visible":
            return torch.cat([w, w], 0)
        if self.copies == "hidden":
            return torch.cat([w, w], 1)
        return w

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, x], 1) if self.copies == "visible" else x

    @property
    def W(self) -> torch.Tensor:
        """The tied weight matrix (n_in, n_out)."""
        if self.copies == "visible":
            return self.rbm.W[: self.n_in]
        if self.copies == "hidden":
            return self.rbm.W[:, : self.n_out]
        return self.rbm.W

    @property
    def b(self) -> torch.Tensor:
        return self.rbm.b[: self.n_in]

    @property
    def c(self) -> torch.Tensor:
        return self.rbm.c[: self.n_out]

    def set_params(self, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> None:
        """Set the single-copy parameters (copied into every copy)."""
        self.rbm.W.copy_(self._tile(W))
        self.rbm.b.copy_(b.repeat(2) if self.copies == "visible" else b)
        self.rbm.c.copy_(c.repeat(2) if self.copies == "hidden" else c)

    def step(self, x: torch.Tensor, config: TrainConfig) -> None:
        """One RBMTrainer update on the input batch x (n, n_in), then re-tie the copies."""
        self.trainer.step(self._input(x), config)
        self._tie()

    def _tie(self) -> None:
        t = self.trainer
        if self.copies == "visible":
            for w in (self.rbm.W, t.velocity["W"]):
                _average_halves(w, 0)
            for b in (self.rbm.b, t.velocity["b"], t.mu):
                _average_halves(b, 0)
        elif self.copies == "hidden":
            for w in (self.rbm.W, t.velocity["W"]):
                _average_halves(w, 1)
            for c in (self.rbm.c, t.velocity["c"], t.lam):
                _average_halves(c, 0)

    def up(self, x: torch.Tensor) -> torch.Tensor:
        """P(output = 1 | input) as this RBM was trained: sigmoid(2 x'W + c) for the bottom RBM."""
        return self.rbm.prob_h_given_v(self._input(x))[:, : self.n_out]

    def down(self, h: torch.Tensor) -> torch.Tensor:
        """P(input = 1 | output) as trained: sigmoid(2 W h + b) for the top RBM."""
        wide = torch.cat([h, h], 1) if self.copies == "hidden" else h
        return self.rbm.mean_v_given_h(wide)[:, : self.n_in]

    def reconstruction_error(self, x: torch.Tensor) -> float:
        """Mean ||x - E[x | h = P(h | x)]||^2 over rows (one mean-field up-down pass)."""
        return float(((x - self.down(self.up(x))) ** 2).sum(-1).mean())


def _average_halves(t: torch.Tensor, dim: int) -> None:
    a, b = t.chunk(2, dim)
    mean = (a + b) / 2
    a.copy_(mean)
    b.copy_(mean)


def copies_for(layer: int, n_hidden_layers: int) -> str | None:
    """Which copy trick the RBM under hidden layer ``layer`` (1-based) uses (module docstring)."""
    if layer == 1:
        return "visible"
    return "hidden" if layer == n_hidden_layers else None


class GreedyStack:
    """The pretraining stack of a DBM with these sizes: one :class:`LayerRBM` per hidden layer,
    trained bottom-up; the input of RBM l is the up-pass of RBMs 1 .. l-1 on the data."""

    def __init__(self, sizes: tuple[int, ...], generator: torch.Generator | None = None, data_mean: torch.Tensor | None = None):
        self.sizes = check_sizes(sizes)
        L = len(self.sizes) - 1
        self.rbms = [
            LayerRBM(self.sizes[l - 1], self.sizes[l], copies_for(l, L), generator, data_mean=data_mean if l == 1 else None)
            for l in range(1, L + 1)
        ]  # fmt: skip

    def features(self, v: torch.Tensor, layer: int) -> torch.Tensor:
        """The input of the RBM under hidden layer ``layer``: v propagated up through the RBMs below."""
        x = v
        for rbm in self.rbms[: layer - 1]:
            x = rbm.up(x)
        return x

    def step(self, layer: int, v: torch.Tensor, config: TrainConfig) -> None:
        """One update of the RBM under hidden layer ``layer`` (1-based) on the data batch v."""
        self.rbms[layer - 1].step(self.features(v, layer), config)


def compose_dbm(stack: GreedyStack, image_shape: tuple[int, int] | None = None) -> DBM:
    """The DBM initialised from a pretrained stack (section 20.4.5):

    W1 = the bottom RBM's W, W_L = the top RBM's W, a middle RBM's W halved;
    b = the bottom RBM's visible bias, c_L = the top RBM's hidden bias, and the bias of a layer
    two RBMs share is the mean of its two biases (the lower RBM's c and the upper RBM's b).
    """
    L = len(stack.sizes) - 1
    dbm = DBM(stack.sizes, image_shape=image_shape)
    for l, layer in enumerate(stack.rbms, start=1):
        dbm.W[l - 1].copy_(layer.W if layer.copies is not None else layer.W / 2)
    dbm.bias[0].copy_(stack.rbms[0].b)
    dbm.bias[L].copy_(stack.rbms[-1].c)
    for l in range(1, L):
        dbm.bias[l].copy_((stack.rbms[l - 1].c + stack.rbms[l].b) / 2)
    return dbm


# --------------------------------------------------------------------------- joint training (algorithm 20.1)


@dataclass
class JointConfig:
    """Hyperparameters of one joint update; all of them may change between updates."""

    lr: float = 0.005
    momentum: float = 0.5
    weight_decay: float = 1e-4
    """L2 penalty on the weights."""
    mf_iterations: int = 10
    """Mean-field iterations of the positive phase."""
    gibbs_steps: int = 1
    """Two-block Gibbs sweeps of the persistent chains per update."""
    centering: bool = False
    centering_rate: float = 0.01


class DBMTrainer:
    """Optimiser state of one DBM: momentum buffers, persistent chains (one per row), centering offsets.

    ``step(v, config)`` does one update of algorithm 20.1 in place and returns monitoring values.
    """

    def __init__(self, dbm: DBM, n_chains: int = 100, generator: torch.Generator | None = None, data_mean: torch.Tensor | None = None):
        self.dbm, self.generator = dbm, generator
        kw = {"device": dbm.device, "dtype": dbm.dtype}
        self.velocity_W = [torch.zeros_like(w) for w in dbm.W]
        self.velocity_bias = [torch.zeros_like(b) for b in dbm.bias]
        self.offsets = [torch.full((n,), 0.5, **kw) for n in dbm.sizes]
        if data_mean is not None:
            self.offsets[0].copy_(data_mean)
        self.chains = dbm.random_state(n_chains, generator)
        self.updates = 0
        self.last_mu: list[torch.Tensor] = []

    def step(self, v: torch.Tensor, config: JointConfig, monitor: bool = True) -> dict[str, float]:
        """One variational SML update on the batch v (algorithm 20.1); returns monitoring values
        (the mean-field bound and last change, reconstruction error, update-to-weight ratios) unless ``monitor`` is False."""
        dbm = self.dbm
        mu = dbm.initial_mu(v)
        for _ in range(int(config.mf_iterations)):
            previous, mu = mu, dbm.mean_field_step(v, mu)
        change = max(float((a - b).abs().max()) for a, b in zip(mu, previous))
        for _ in range(int(config.gibbs_steps)):
            self.chains = dbm.gibbs_sweep(self.chains, generator=self.generator)
        data_side, model_side = [v, *mu], self.chains
        o = self.offsets if config.centering else [torch.zeros_like(t) for t in self.offsets]
        lr, mom = float(config.lr), float(config.momentum)

        for l in range(1, len(dbm.sizes)):
            grad = _centred_cross(data_side[l - 1], data_side[l], o[l - 1], o[l]) - _centred_cross(model_side[l - 1], model_side[l], o[l - 1], o[l])
            grad -= config.weight_decay * dbm.W[l - 1]
            self.velocity_W[l - 1].mul_(mom).add_(grad, alpha=lr)
        for l in range(len(dbm.sizes)):
            grad = data_side[l].mean(0) - model_side[l].mean(0)
            self.velocity_bias[l].mul_(mom).add_(grad, alpha=lr)
        # book parameters: b_l = b~_l - W_l' o_{l-1} - W_{l+1} o_{l+1}, so Delta b_l carries the weight changes
        for l in range(len(dbm.sizes)):
            delta = self.velocity_bias[l].clone()
            if config.centering:
                if l > 0:
                    delta -= o[l - 1] @ self.velocity_W[l - 1]
                if l < dbm.n_hidden_layers:
                    delta -= self.velocity_W[l] @ o[l + 1]
            dbm.bias[l].add_(delta)
        for w, dw in zip(dbm.W, self.velocity_W):
            w.add_(dw)
        if config.centering:
            r = float(config.centering_rate)
            for off, x in zip(self.offsets, data_side):
                off.mul_(1 - r).add_(x.mean(0), alpha=r)
        self.updates += 1
        self.last_mu = mu
        if not monitor:
            return {}
        return {
            "mf_bound": float(dbm.variational_bound(v, mu).mean()),
            "mf_change": change,
            "reconstruction": float(((v - torch.sigmoid(dbm.layer_input(0, [v, mu[0]]))) ** 2).sum(-1).mean()),
            **{f"update_ratio_W{l + 1}": update_ratio(dw, w) for l, (w, dw) in enumerate(zip(dbm.W, self.velocity_W))},
        }

    def state(self) -> dict:
        """A copy of everything that changes in a step (for rolling back after a divergence)."""
        return {
            "params": {k: t.clone() for k, t in self.dbm.parameters().items()},
            "velocity_W": [t.clone() for t in self.velocity_W],
            "velocity_bias": [t.clone() for t in self.velocity_bias],
            "offsets": [t.clone() for t in self.offsets],
            "chains": [t.clone() for t in self.chains],
            "updates": self.updates,
        }

    def restore(self, state: dict) -> None:
        self.dbm.load_state(state["params"])
        for name in ("velocity_W", "velocity_bias", "offsets"):
            for t, s in zip(getattr(self, name), state[name]):
                t.copy_(s)
        self.chains = [t.clone() for t in state["chains"]]
        self.updates = state["updates"]


def _centred_cross(a: torch.Tensor, b: torch.Tensor, oa: torch.Tensor, ob: torch.Tensor) -> torch.Tensor:
    """<(a - oa)(b - ob)'> over the rows."""
    return (a - oa).T @ (b - ob) / a.shape[0]


# --------------------------------------------------------------------------- learned inference network


class InferenceNet:
    """A bottom-up network that predicts mean field in one pass (Salakhutdinov & Larochelle 2010):

    mu_l = sigmoid(mu_{l-1}'R_l + r_l), mu_0 = v, one (R_l, r_l) per hidden layer, trained by
    minimising the cross-entropy between its outputs and the mean-field result (book 19.5).
    It starts from the DBM's own bottom-up guess (R_l = 2 W_l below the top, W_L at the top).
    """

    def __init__(self, dbm: DBM):
        self.sizes = dbm.sizes
        L = dbm.n_hidden_layers
        self.R = [(w * (1.0 if l == L else 2.0)).clone().requires_grad_(True) for l, w in enumerate(dbm.W, start=1)]
        self.r = [c.clone().requires_grad_(True) for c in dbm.bias[1:]]
        self.optimizer = torch.optim.Adam([*self.R, *self.r], lr=1e-3)

    def parameters(self) -> dict[str, torch.Tensor]:
        return {**{f"R{l + 1}": t for l, t in enumerate(self.R)}, **{f"r{l + 1}": t for l, t in enumerate(self.r)}}

    def _logits(self, v: torch.Tensor) -> list[torch.Tensor]:
        out, x = [], v
        for R, r in zip(self.R, self.r):
            a = x @ R + r
            out.append(a)
            x = torch.sigmoid(a)
        return out

    def __call__(self, v: torch.Tensor) -> list[torch.Tensor]:
        """The predicted mean-field parameters, one (N, n_l) tensor per hidden layer."""
        with torch.no_grad():
            return [torch.sigmoid(a) for a in self._logits(v)]

    def step(self, v: torch.Tensor, target_mu: list[torch.Tensor], lr: float = 1e-3) -> float:
        """One Adam step on sum_l cross-entropy(target mu_l, predicted mu_l); returns that loss (nats per image)."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss = sum(F.binary_cross_entropy_with_logits(a, t.detach(), reduction="sum") for a, t in zip(self._logits(v), target_mu)) / v.shape[0]
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, t in self.parameters().items():
                t.copy_(tensors[name])


# --------------------------------------------------------------------------- checkpoints: the DBM with its stack and inference network


@dataclass
class TrainedDBM:
    """A trained DBM with the RBM stack it was pretrained from (its DBN) and, when trained, its inference network;
    ``extra``: its checkpoint's record of what it was trained on and how."""

    dbm: DBM
    stack: GreedyStack
    net: InferenceNet | None
    extra: dict


def save_trained(path, dbm: DBM, stack: GreedyStack, net: InferenceNet | None, extra: dict | None = None, dtype: torch.dtype = torch.float16) -> None:
    """One checkpoint (family ``dbm``): the DBM's W1.. b c1.., the stack's single-copy rbm<l>.W/.b/.c and the network's R<l>, r<l>;
    config = the DBM's sizes and image shape and whether a network is stored, ``extra`` as given."""
    tensors = dict(dbm.parameters())
    for l, layer in enumerate(stack.rbms, start=1):
        tensors.update({f"rbm{l}.W": layer.W, f"rbm{l}.b": layer.b, f"rbm{l}.c": layer.c})
    if net is not None:
        tensors.update({k: t.detach() for k, t in net.parameters().items()})
    config = {**dbm.checkpoint_config(), "inference_net": net is not None}
    checkpoint.write(path, "dbm", {k: t.to(dtype) for k, t in tensors.items()}, config, extra)


def load_trained(path, device: torch.device | str = "cpu") -> TrainedDBM:
    """Read :func:`save_trained`'s checkpoint; CheckpointError names the file when it does not fit."""
    ckpt = checkpoint.read(path, "dbm", device)
    dbm = DBM.from_checkpoint(ckpt, device)
    stack = GreedyStack(dbm.sizes)
    shapes = {}
    for l, layer in enumerate(stack.rbms, start=1):
        shapes.update({f"rbm{l}.W": (layer.n_in, layer.n_out), f"rbm{l}.b": (layer.n_in,), f"rbm{l}.c": (layer.n_out,)})
    net = InferenceNet(dbm) if ckpt.config.get("inference_net") else None
    if net is not None:
        shapes.update({k: tuple(t.shape) for k, t in net.parameters().items()})
    checkpoint.expect_shapes(path, {k: ckpt.tensors[k] for k in shapes if k in ckpt.tensors}, shapes)
    for l, layer in enumerate(stack.rbms, start=1):
        layer.set_params(ckpt.tensors[f"rbm{l}.W"], ckpt.tensors[f"rbm{l}.b"], ckpt.tensors[f"rbm{l}.c"])
    if net is not None:
        net.load_state(ckpt.tensors)
    return TrainedDBM(dbm, stack, net, dict(ckpt.extra))
