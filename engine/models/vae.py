"""Variational autoencoder (Kingma & Welling 2013, arXiv 1312.6114; Deep Learning book 20.10.3).

Generative model: prior p(z) = N(0, I), decoder p(x|z) an MLP. Recognition model
(encoder): q(z|x) = N(z; mu(x), diag sigma^2(x)), an MLP with the same hidden width.

- ``BernoulliDecoder``: p(x|z) = prod_j y_j^x_j (1 - y_j)^(1 - x_j), y = sigmoid(MLP(z))
  (K&W appendix C.1), for binarized MNIST (the binarization scheme is named by the data).
- ``GaussianDecoder``: p(x|z) = N(x; mu(z), diag sigma^2(z)) for pixels in [0, 1] (Frey faces),
  K&W appendix C.2 (eq. 12): h = tanh(W3 z + b3), mu = sigmoid(W4 h + b4) (the means constrained
  to (0, 1) as in K&W section 5), log sigma^2 = W5 h + b5. ``decoder_variance`` chooses the variance:
  ``"per_z"`` (the paper's, the default) a log-variance head on the same hidden layer, so every pixel's
  variance depends on z; ``"shared"`` one learned variance per pixel, the same for every z. Either way
  log sigma^2 has a floor, ``min_log_var`` (sigma >= 0.011 at -9, ~3 grey levels of 1/255): a Gaussian
  density on pixels in [0, 1] is unbounded as sigma -> 0 (a pixel the decoder predicts exactly, e.g. a
  saturated one, would drive its variance to zero and the likelihood to +inf). ``"shared"`` clamps at the
  floor; ``"per_z"`` uses the smooth floor log sigma^2 = min_log_var + softplus(W5 h + b5 - min_log_var),
  which equals W5 h + b5 well above the floor and keeps a gradient near it. With the floor each pixel
  contributes at most -1/2 (min_log_var + log 2 pi) = 3.58 nats at -9: 2,005 nats for a 28 x 20 face.

Objectives, per example, in nats:
- ELBO L(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))  (K&W eq. 3 and eq. 10), the expectation
  estimated with one reparameterized sample z = mu + sigma * eps (K&W section 2.4) and the KL
  in closed form (K&W appendix B). ``beta`` weights the KL term of the training objective.
- IWAE bound L_k(x) = E[log (1/k) sum_i p(x, z_i) / q(z_i|x)], z_i ~ q(z|x) (Burda et al. 2015,
  eq. 8); L_1 = ELBO <= L_k <= L_{k+1} <= log p(x).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine import checkpoint

LATENT_SIZES = (2, 5, 10, 20)
LIKELIHOODS = ("bernoulli", "gaussian")
DECODER_VARIANCES = ("per_z", "shared")
"""Gaussian decoder's sigma^2: "per_z" = a function of z (K&W appendix C.2), "shared" = one per pixel for all z."""
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "softplus": nn.Softplus}
LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class VAEConfig:
    """Architecture: n_x pixels, n_z latent units, one hidden layer of n_hidden units in encoder and decoder."""

    n_x: int
    n_z: int = 2
    n_hidden: int = 400
    activation: str = "tanh"
    likelihood: str = "bernoulli"
    image_shape: tuple[int, int] = (28, 28)
    min_log_var: float = -9.0
    """Gaussian decoder only: the floor of log sigma^2 (sigma >= 0.011), see the module docstring."""
    decoder_variance: str = "per_z"
    """Gaussian decoder only: "per_z" (sigma^2(z), K&W appendix C.2) or "shared" (one sigma_j^2 per pixel for every z)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_shape", tuple(int(s) for s in self.image_shape))
        if self.n_x != self.image_shape[0] * self.image_shape[1]:
            raise ValueError(f"n_x={self.n_x} does not match image_shape {self.image_shape}")
        if not 1 <= self.n_z <= 64:
            raise ValueError(f"n_z (latent size) must be 1..64, got {self.n_z}")
        if not 0 <= self.n_hidden <= 4096:
            raise ValueError(f"n_hidden must be 0..4096 (0 = linear maps), got {self.n_hidden}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got {self.likelihood!r}")
        if self.decoder_variance not in DECODER_VARIANCES:
            raise ValueError(f"decoder_variance must be one of {', '.join(DECODER_VARIANCES)}, got {self.decoder_variance!r}")


def _mlp_trunk(n_in: int, n_hidden: int, activation: str) -> tuple[nn.Module, int]:
    if n_hidden == 0:
        return nn.Identity(), n_in
    return nn.Sequential(nn.Linear(n_in, n_hidden), ACTIVATIONS[activation]()), n_hidden


# --------------------------------------------------------------------------- densities


def log_standard_normal(z: torch.Tensor) -> torch.Tensor:
    """log p(z) for p(z) = N(0, I), summed over the last axis."""
    return -0.5 * (z.pow(2) + LOG_2PI).sum(-1)


def log_diag_normal(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag exp(log_var)), summed over the last axis."""
    return -0.5 * ((z - mu).pow(2) * torch.exp(-log_var) + log_var + LOG_2PI).sum(-1)


def kl_to_standard_normal(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag sigma^2) || N(0, I)) = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2) (K&W eq. 10, appendix B)."""
    return -0.5 * (1.0 + log_var - mu.pow(2) - torch.exp(log_var)).sum(-1)


def reparameterize(mu: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I): a differentiable sample of q(z|x) (K&W section 2.4, book 20.9)."""
    return mu + torch.exp(0.5 * log_var) * eps


# --------------------------------------------------------------------------- networks


class GaussianEncoder(nn.Module):
    """q(z|x) = N(z; mu(x), diag sigma^2(x)): one hidden layer, two linear heads (K&W eq. 9, appendix C.2)."""

    def __init__(self, n_x: int, n_z: int, n_hidden: int, activation: str):
        super().__init__()
        self.trunk, width = _mlp_trunk(n_x, n_hidden, activation)
        self.mu = nn.Linear(width, n_z)
        self.log_var = nn.Linear(width, n_z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.mu(h), self.log_var(h)


class BernoulliDecoder(nn.Module):
    """p(x|z) = prod_j Bernoulli(x_j; y_j), y = sigmoid(W2 act(W1 z + b1) + b2) (K&W appendix C.1)."""

    likelihood = "bernoulli"

    def __init__(self, n_x: int, n_z: int, n_hidden: int, activation: str):
        super().__init__()
        self.trunk, width = _mlp_trunk(n_z, n_hidden, activation)
        self.out = nn.Linear(width, n_x)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.trunk(z))

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        """E[x|z] = y(z), pixel probabilities."""
        return torch.sigmoid(self.logits(z))

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x|z) = sum_j x_j log y_j + (1 - x_j) log(1 - y_j); z (..., B, n_z) and x (B, n_x) give (..., B)."""
        logits = self.logits(z)
        return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)

    def sample(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.bernoulli(self.mean(z), generator=generator)

    def log_likelihood_matrix(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x_b|z_g) for every pair: x (B, n_x), z (G, n_z) give (B, G) in float64, as two matrix products."""
        logits = self.logits(z).double()
        x = x.double()
        return x @ F.logsigmoid(logits).T + (1.0 - x) @ F.logsigmoid(-logits).T


class GaussianDecoder(nn.Module):
    """p(x|z) = N(x; mu(z), diag sigma^2(z)), mu = sigmoid(W4 h + b4), h = tanh(W3 z + b3) (K&W appendix C.2, eq. 12).

    ``variance="per_z"``: log sigma^2(z) = W5 h + b5 on the same hidden layer (the paper's), softly floored;
    ``variance="shared"``: one learned log sigma_j^2 per pixel for every z, clamped (see the module docstring).
    """

    likelihood = "gaussian"

    def __init__(self, n_x: int, n_z: int, n_hidden: int, activation: str, min_log_var: float = -9.0, variance: str = "per_z"):
        super().__init__()
        if variance not in DECODER_VARIANCES:
            raise ValueError(f"decoder_variance must be one of {', '.join(DECODER_VARIANCES)}, got {variance!r}")
        self.trunk, width = _mlp_trunk(n_z, n_hidden, activation)
        self.out = nn.Linear(width, n_x)
        self.variance, self.min_log_var = variance, min_log_var
        if variance == "per_z":
            self.out_log_var = nn.Linear(width, n_x)
            nn.init.constant_(self.out_log_var.bias, math.log(0.1**2))
        else:
            self.raw_log_var = nn.Parameter(torch.full((n_x,), math.log(0.1**2)))

    def mean_log_var(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu(z), log sigma^2(z)): (..., n_x) each for "per_z"; the shared log sigma^2 has shape (n_x,) and broadcasts."""
        h = self.trunk(z)
        mu = torch.sigmoid(self.out(h))
        if self.variance == "per_z":
            return mu, self.min_log_var + F.softplus(self.out_log_var(h) - self.min_log_var)
        return mu, self.raw_log_var.clamp(min=self.min_log_var)

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.out(self.trunk(z)))

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log N(x; mu(z), diag sigma^2(z)) = -1/2 sum_j [(x_j - mu_j)^2 / sigma_j^2 + log sigma_j^2 + log 2 pi]; z (..., B, n_z) and x (B, n_x) give (..., B)."""
        mu, log_var = self.mean_log_var(z)
        return log_diag_normal(x, mu, log_var)

    def sample(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        mu, log_var = self.mean_log_var(z)
        return mu + torch.exp(0.5 * log_var) * torch.randn(mu.shape, generator=generator, device=mu.device)

    def log_likelihood_matrix(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x_b|z_g) for every pair: x (B, n_x), z (G, n_z) give (B, G) in float64, expanding the square.

        sum_j (x_bj - mu_gj)^2 / sigma_gj^2 = x_b^2 . prec_g - 2 x_b . (mu_g prec_g) + mu_g^2 . prec_g, prec = 1 / sigma^2.
        """
        mu, log_var = self.mean_log_var(z)
        mu, log_var, x = mu.double(), log_var.double().expand_as(mu), x.double()
        prec = torch.exp(-log_var)
        quad = x.pow(2) @ prec.T - 2.0 * x @ (mu * prec).T + (mu.pow(2) * prec).sum(-1)[None, :]
        return -0.5 * (quad + log_var.sum(-1)[None, :] + x.shape[-1] * LOG_2PI)


def make_decoder(config: VAEConfig) -> nn.Module:
    if config.likelihood == "bernoulli":
        return BernoulliDecoder(config.n_x, config.n_z, config.n_hidden, config.activation)
    return GaussianDecoder(config.n_x, config.n_z, config.n_hidden, config.activation, config.min_log_var, config.decoder_variance)


# --------------------------------------------------------------------------- bounds


@dataclass(frozen=True)
class ElboTerms:
    """Per-example tensors: recon = E_q[log p(x|z)] (one sample), kl = KL(q(z|x) || p(z)), elbo = recon - kl."""

    recon: torch.Tensor
    kl: torch.Tensor

    @property
    def elbo(self) -> torch.Tensor:
        return self.recon - self.kl

    def objective(self, beta: float = 1.0) -> torch.Tensor:
        """recon - beta * kl (beta = 1: the ELBO; beta != 1 is no longer a bound on log p(x))."""
        return self.recon - beta * self.kl


def elbo_terms(encoder: nn.Module, decoder: nn.Module, x: torch.Tensor, generator: torch.Generator | None = None) -> ElboTerms:
    """The SGVB estimator of L(x) with analytic KL (K&W eq. 10): one reparameterized z per example."""
    mu, log_var = encoder(x)
    eps = torch.randn(mu.shape, generator=generator, device=mu.device)
    z = reparameterize(mu, log_var, eps)
    return ElboTerms(decoder.log_likelihood(x, z), kl_to_standard_normal(mu, log_var))


def log_importance_weights(
    encoder: nn.Module, decoder: nn.Module, x: torch.Tensor, k: int, generator: torch.Generator | None = None, chunk: int | None = None
) -> torch.Tensor:
    """log w_i = log p(x, z_i) - log q(z_i|x) for k samples z_i ~ q(z|x): shape (k, B).

    ``chunk`` bounds how many samples are decoded at once (k = 1000 fits in memory).
    """
    mu, log_var = encoder(x)
    chunk = k if chunk is None else max(1, chunk)
    parts = []
    for start in range(0, k, chunk):
        n = min(chunk, k - start)
        eps = torch.randn((n, *mu.shape), generator=generator, device=mu.device)
        z = reparameterize(mu, log_var, eps)
        parts.append(decoder.log_likelihood(x, z) + log_standard_normal(z) - log_diag_normal(z, mu, log_var))
    return torch.cat(parts, 0)


def iwae_bound(
    encoder: nn.Module, decoder: nn.Module, x: torch.Tensor, k: int, generator: torch.Generator | None = None, chunk: int | None = None
) -> torch.Tensor:
    """L_k(x) = log (1/k) sum_i w_i, per example (Burda et al. 2015 eq. 8; book 20.10.3). Differentiable."""
    if k < 1:
        raise ValueError(f"k (importance samples) must be >= 1, got {k}")
    log_w = log_importance_weights(encoder, decoder, x, k, generator, chunk)
    return torch.logsumexp(log_w.double(), 0) - math.log(k)


# --------------------------------------------------------------------------- the model


class VAE(nn.Module):
    """Encoder q(z|x) and decoder p(x|z) with prior p(z) = N(0, I)."""

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.encoder = GaussianEncoder(config.n_x, config.n_z, config.n_hidden, config.activation)
        self.decoder = make_decoder(config)

    def elbo_terms(self, x: torch.Tensor, generator: torch.Generator | None = None) -> ElboTerms:
        return elbo_terms(self.encoder, self.decoder, x, generator)

    def iwae_bound(self, x: torch.Tensor, k: int, generator: torch.Generator | None = None, chunk: int | None = None) -> torch.Tensor:
        return iwae_bound(self.encoder, self.decoder, x, k, generator, chunk)

    def log_joint(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x, z) = log p(x|z) + log p(z); z (..., B, n_z)."""
        return self.decoder.log_likelihood(x, z) + log_standard_normal(z)

    @torch.no_grad()
    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder means E[x|z] as images (..., H, W)."""
        return self.decoder.mean(z).reshape(*z.shape[:-1], *self.config.image_shape)

    def training_loss(self, x: torch.Tensor, beta: float = 1.0, k: int = 1, generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        """Minus the batch-mean objective, and the metrics of this batch (nats per example).

        k = 1: the beta-weighted ELBO (AEVB); k > 1: the IWAE bound L_k (beta is then ignored).
        """
        terms = self.elbo_terms(x, generator)
        metrics = {"elbo": float(terms.elbo.detach().mean()), "recon": float(terms.recon.detach().mean()), "kl": float(terms.kl.detach().mean())}
        if k == 1:
            objective = terms.objective(beta).mean()
        else:
            objective = self.iwae_bound(x, k, generator).float().mean()
            metrics["iwae"] = float(objective.detach())
        return -objective, metrics

    # ------------------------------------------------------------------ checkpoints

    def save(self, path: Any, extra: dict[str, Any] | None = None, half: bool = False) -> None:
        """Write the weights (float16 when ``half``), the config (:class:`VAEConfig`) and ``extra`` (data, training, held-out figures)."""
        tensors = {k: (v.half() if half else v) for k, v in self.state_dict().items()}
        checkpoint.write(path, "vae", tensors, asdict(self.config), extra)

    @classmethod
    def load(cls, path: Any) -> tuple["VAE", dict[str, Any]]:
        """Read a checkpoint written by :meth:`save`; return the model (eval mode) and its extra record.

        A Gaussian-decoder config written before ``decoder_variance`` existed reads as "shared" (the only decoder then).
        """
        ckpt = checkpoint.read(path, "vae")
        fields = dict(ckpt.config)
        if fields.get("likelihood") == "gaussian":
            fields.setdefault("decoder_variance", "shared")
        try:
            config = VAEConfig(**fields)
        except (TypeError, ValueError) as err:
            raise ckpt.fail(f"bad model config ({err})") from err
        model = cls(config)
        checkpoint.expect_shapes(path, ckpt.tensors, {k: tuple(v.shape) for k, v in model.state_dict().items()})
        model.load_state_dict(ckpt.tensors)
        return model.eval(), dict(ckpt.extra)


def latent_grid(n: int, lo: float = 0.05, hi: float = 0.95) -> torch.Tensor:
    """An n x n grid of z: equally spaced quantiles in [lo, hi] mapped through the inverse Gaussian CDF (K&W Figure 4).

    Row r, column c holds (z1, z2) = (Phi^-1(u_c), Phi^-1(u_{n-1-r})): z1 grows to the right, z2 upwards.
    """
    if not 2 <= n <= 60:
        raise ValueError(f"grid size must be 2..60, got {n}")
    u = torch.linspace(lo, hi, n, dtype=torch.float64)
    q = torch.special.ndtri(u).float()
    z2, z1 = torch.meshgrid(q.flip(0), q, indexing="ij")
    return torch.stack([z1, z2], -1).reshape(n * n, 2)
