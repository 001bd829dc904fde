"""Training an RBM by stochastic maximum likelihood: CD-k and PCD / SML (book section 18.2).

The log-likelihood gradient is a positive phase minus a negative phase (section 18.1, eqs. 18.4
and 18.15); for a model with hidden units, log P~(v) = -F(v) and d(-F(v))/d theta = E_h|v[-dE/dtheta]::

    d log P(v) / d theta = E_data[-dE/dtheta] - E_model[-dE/dtheta]

Every -dE/dtheta below is affine in h, so each phase uses E[h|v] = P(h = 1|v) in place of a sampled h.
The binary RBM (eq. 20.6) has -dE/dW = v h', -dE/db = v, -dE/dc = h. The Gaussian-Bernoulli RBM
(section 20.5.1, with the energy of ``engine.models.rbm``, beta_v = exp(log beta_v))::

    E(v, h) = 1/2 sum_i beta_v,i (v_i - b_i)^2 - c'h - (beta_v * v)'Wh

has -dE/dW = (beta_v * v) h', -dE/db = beta_v * (v - b), -dE/dc = h and
-dE/d log beta_v = beta_v * (v * Wh - (v - b)^2 / 2). The trainer applies these exactly: the
visible rows are scaled by beta_v before the statistics are taken (the b in beta_v * (v - b)
cancels between the phases).
The model expectation comes from a short Gibbs chain: started at the data for CD-k
(contrastive divergence, Algorithm 18.2), or continued from the previous update's
chains for PCD (stochastic maximum likelihood, Algorithm 18.3).

Extras from Hinton's practical guide: momentum, L2 weight decay, mini-batches; and the
centering trick of Montavon & Mueller (2012), which computes the gradient of the
model re-written around offsets mu (visible) and lambda (hidden)::

    E(v, h) = -(v - mu)'W(h - lambda) - (v - mu)'b~ - (h - lambda)'c~

and applies it to the book's (uncentred) parameters: b = b~ - W lambda, c = c~ - W' mu.
For Gaussian units the centred energy is
1/2 sum_i beta_v,i (v_i - b~_i)^2 - (beta_v * v - mu)'W(h - lambda) - (h - lambda)'c~: mu centres
beta_v * v, the statistic W multiplies, and the same two relations hold (the log-precision gradient
is unchanged, the two parametrisations differing by a constant in v and h). The offsets follow the
data means (of v, or beta_v * v, and of P(h|v)) with a sliding average.

The step is written to be matmul-bound: every buffer is preallocated, the positive
and negative statistics share one (2B, n) matrix each, and the weight gradient is a
single GEMM accumulated straight into the momentum buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.models.rbm import RBM

METHODS = ("cd", "pcd")
PRECISION_LR_SCALE = 0.1
"""The log-precisions of a Gaussian RBM learn ten times slower than W. The exact W and b gradients
grow with beta_v, so a fixed lr turns unstable once the precisions are large (Frey faces, PCD-1 at
lr 0.003: past a largest beta_v of about e^2.8); a slower precision only reaches that point later."""


@dataclass
class TrainConfig:
    """Hyperparameters of one update; all of them may change between updates."""

    method: str = "pcd"
    """``cd`` (contrastive divergence) or ``pcd`` (persistent chains, a.k.a. SML)."""
    k: int = 1
    """Gibbs steps per update."""
    lr: float = 0.01
    momentum: float = 0.5
    weight_decay: float = 1e-4
    """L2 penalty on W (added to the gradient as -weight_decay * W)."""
    centering: bool = False
    centering_rate: float = 0.01
    """Sliding-average rate of the centering offsets."""

    def check(self) -> None:
        """ValueError naming the parameter and its allowed range."""
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if not 1 <= int(self.k) <= 100:
            raise ValueError(f"k (Gibbs steps per update) must be between 1 and 100, got {self.k}")
        if not 0.0 < self.lr <= 10.0:
            raise ValueError(f"learning rate must be in (0, 10], got {self.lr}")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if not 0.0 <= self.weight_decay <= 1.0:
            raise ValueError(f"weight decay must be in [0, 1], got {self.weight_decay}")
        if not 0.0 < self.centering_rate <= 1.0:
            raise ValueError(f"centering rate must be in (0, 1], got {self.centering_rate}")


class RBMTrainer:
    """Holds the optimiser state of one RBM: momentum buffers, persistent chains, centering offsets.

    ``step(v, config)`` does one update on a mini-batch v (B, n_visible) in place;
    ``apply_phases`` is its last part, the update from given positive and negative phases.
    After a step, ``update`` holds the last change of W (for the update-to-weight ratio),
    ``chains`` the persistent visible states (PCD) or the last negative samples (CD).
    """

    def __init__(self, rbm: RBM, generator: torch.Generator | None = None, data_mean: torch.Tensor | None = None):
        self.rbm = rbm
        self.generator = generator
        kw = {"device": rbm.device, "dtype": rbm.dtype}
        self.velocity = {name: torch.zeros_like(t) for name, t in rbm.parameters().items()}
        visible_mean = data_mean.to(**kw) if data_mean is not None else torch.full((rbm.n_visible,), 0.5, **kw)
        self.mu = visible_mean * rbm.precision  # the offset of beta_v * v (of v for binary units)
        self.lam = torch.full((rbm.n_hidden,), 0.5, **kw)
        self._batch = 0
        self.chains: torch.Tensor | None = None
        self._chain_h: torch.Tensor | None = None
        self.updates = 0

    @property
    def update(self) -> torch.Tensor:
        """The most recent change applied to W."""
        return self.velocity["W"]

    def _allocate(self, batch: int) -> None:
        kw = {"device": self.rbm.device, "dtype": self.rbm.dtype}
        nv, nh = self.rbm.n_visible, self.rbm.n_hidden
        self.V = torch.empty(2 * batch, nv, **kw)  # [v_data; v_model], scaled by beta_v in apply_phases
        self.H = torch.empty(2 * batch, nh, **kw)  # [P(h|v_data); P(h|v_model)], the second half negated in apply_phases
        self.h = torch.empty(batch, nh, **kw)  # a hidden sample
        self.u_h = torch.empty(batch, nh, **kw)  # uniform noise for Bernoulli sampling
        self.u_v = torch.empty(batch, nv, **kw)
        self.chain_weight = torch.ones(batch, **kw)  # each chain counts as one data row
        self._batch = batch

    def reset_chains(self, v: torch.Tensor) -> None:
        """Start the persistent chains at these visible states (one chain per row)."""
        self.chains = v.to(self.rbm.W).clone()
        self._chain_h = torch.bernoulli(self.rbm.prob_h_given_v(self.chains), generator=self.generator)

    def step(self, v_data: torch.Tensor, config: TrainConfig) -> None:
        """One stochastic gradient update of W, b, c (and the precisions of a Gaussian RBM) from v_data."""
        rbm = self.rbm
        B = v_data.shape[0]
        if B != self._batch:
            self._allocate(B)
        if config.method == "pcd" and (self._chain_h is None or self._chain_h.shape[0] != B):
            self.reset_chains(v_data)
        V, H, h = self.V, self.H, self.h
        Vd, Vm, Hd, Hm = V[:B], V[B:], H[:B], H[B:]
        # a Gaussian unit feeds beta_v * v to the hidden layer: fold its precision into the weights once
        W_in = rbm.W * rbm.precision[:, None] if rbm.gaussian else rbm.W

        # positive phase: P(h|v_data)   (eq. 20.14)
        Vd.copy_(v_data)
        torch.addmm(rbm.c, Vd, W_in, out=Hd).sigmoid_()

        # negative phase: k steps of block Gibbs sampling from the data (CD) or the chains (PCD)
        if config.method == "pcd":
            h.copy_(self._chain_h)
        else:
            self._bernoulli(Hd, self.u_h, h)
        for i in range(int(config.k)):
            self._sample_visible(h, Vm)
            torch.addmm(rbm.c, Vm, W_in, out=Hm).sigmoid_()
            if i < config.k - 1 or config.method == "pcd":
                self._bernoulli(Hm, self.u_h, h)
        self.chains = Vm.clone() if self.chains is None or self.chains.shape != Vm.shape else self.chains.copy_(Vm)
        if config.method == "pcd":
            self._chain_h = h.clone() if self._chain_h is None or self._chain_h.shape != h.shape else self._chain_h.copy_(h)

        self.apply_phases(V, H, B, self.chain_weight, config)

    def _sample_visible(self, h: torch.Tensor, out: torch.Tensor) -> None:
        """out ~ P(v|h) (eq. 20.16, or N(b + Wh, 1/beta_v) for Gaussian units), without new allocations."""
        rbm = self.rbm
        torch.addmm(rbm.b, h, rbm.W.T, out=out)
        if rbm.gaussian:
            noise = torch.randn(out.shape, generator=self.generator, device=out.device, dtype=out.dtype)
            out.addcmul_(noise, rbm.log_precision.mul(-0.5).exp())
        else:
            self._bernoulli(out.sigmoid_(), self.u_v, out)

    def _bernoulli(self, p: torch.Tensor, noise: torch.Tensor, out: torch.Tensor) -> None:
        """out = 1[u < p] with u ~ U(0, 1): a Bernoulli(p) sample into a preallocated buffer."""
        torch.rand(noise.shape, generator=self.generator, out=noise)
        torch.lt(noise, p, out=out)

    def apply_phases(self, V: torch.Tensor, H: torch.Tensor, n_data: int, model_weight: torch.Tensor, config: TrainConfig) -> None:
        """One momentum update, velocity = momentum * velocity + lr * gradient and theta += velocity, from the two phases.

        Row k of V (N, n_visible) is a visible state and row k of H (N, n_hidden) the hidden state
        paired with it, or E[h|v] (every -dE/dtheta is affine in h).
        The first ``n_data`` rows are the data (the positive phase, equally weighted); the others
        carry the model expectation (the negative phase), row k counting ``model_weight[k]`` data
        rows, the weights summing to n_data. The gradient is eqs. 18.4 and 18.15 with the
        -dE/dtheta of the module docstring (centred when ``config.centering``)::

            (sum_data (-dE/dtheta)(v, h) - sum_model weight * (-dE/dtheta)(v, h)) / n_data

        ``step`` passes B data rows, B chain rows and unit weights; an exact model expectation is
        any weighted set of rows that reproduces it. V and H are overwritten.
        """
        rbm, vel, B = self.rbm, self.velocity, n_data
        lr, mom = float(config.lr), float(config.momentum)
        Vd, Vm, Hd, Hm = V[:B], V[B:], H[:B], H[B:]
        if rbm.gaussian and rbm.config.learn_precision:
            precision_gradient = self._log_precision_gradient(V, H, B, model_weight)
        if rbm.gaussian:
            V.mul_(rbm.precision)  # rows beta_v * v: the statistic of W, and of b up to the cancelling beta_v * b
        Hm.mul_(model_weight.neg()[:, None])
        dv = (Vd.sum(0) - (Vm * model_weight[:, None]).sum(0)) / B  # <beta_v v>_data - <beta_v v>_model
        dh = H.sum(0) / B  # <h>_data - <h>_model
        # W: <beta_v v h'>_data - <beta_v v h'>_model as one GEMM over the stacked rows, straight into the momentum buffer
        torch.addmm(vel["W"], V.T, H, beta=mom, alpha=lr / B, out=vel["W"])
        if config.weight_decay:
            vel["W"].add_(rbm.W, alpha=-lr * config.weight_decay)
        db, dc = dv.clone(), dh.clone()
        if config.centering:
            # the centred gradient <(beta_v v - mu)(h - lam)'>_d - <...>_m = gW - mu dh' - dv lam'
            vel["W"].addr_(self.mu, dh, alpha=-lr).addr_(dv, self.lam, alpha=-lr)
            gW_lam = (V.T @ (H @ self.lam)) / B - self.mu * (dh @ self.lam) - dv * (self.lam @ self.lam)
            gWt_mu = (H.T @ (V @ self.mu)) / B - dh * (self.mu @ self.mu) - self.lam * (dv @ self.mu)
            db -= gW_lam
            dc -= gWt_mu
        vel["b"].mul_(mom).add_(db, alpha=lr)
        vel["c"].mul_(mom).add_(dc, alpha=lr)
        if rbm.gaussian and rbm.config.learn_precision:
            vel["log_precision"].mul_(mom).add_(precision_gradient, alpha=lr * PRECISION_LR_SCALE)
        for name, t in rbm.parameters().items():
            if name != "log_precision" or rbm.config.learn_precision:
                t.add_(vel[name])
        if config.centering:
            r = config.centering_rate
            self.mu.mul_(1 - r).add_(Vd.mean(0), alpha=r)
            self.lam.mul_(1 - r).add_(Hd.mean(0), alpha=r)
        self.updates += 1

    def _log_precision_gradient(self, V: torch.Tensor, H: torch.Tensor, n_data: int, model_weight: torch.Tensor) -> torch.Tensor:
        """d log P / d log beta_v = <-dE/d log beta_v>_data - <...>_model (eqs. 18.4, 18.15) from the rows of
        ``apply_phases``, with -dE/d log beta_v = beta_v * (v * Wh - (v - b)^2 / 2)."""
        rbm = self.rbm
        stat = V * (H @ rbm.W.T) - 0.5 * (V - rbm.b) ** 2
        return rbm.precision * (stat[:n_data].sum(0) - stat[n_data:].T @ model_weight) / n_data
