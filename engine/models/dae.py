"""A denoising autoencoder as a generative model: its Markov chain and walkback training.

Book section 20.11.1 (Figure 20.11), Bengio et al. 2013, "Generalized denoising
auto-encoders as generative models". One step of the chain, from the current x:

    x~ ~ C(x~ | x)              corrupt (``corruption.corrupt``)
    h  = f(x~) = sigmoid(x~ W + c)  encode
    p(x | h) = Bernoulli(sigmoid(h W^T + b))   decode (the reconstruction distribution)
    x' ~ p(x | h)               sample

W is (n_visible, n_hidden) and shared by encoder and decoder (tied weights); b is the
visible bias and c the hidden bias, as for the RBM. Training minimises the
reconstruction negative log-likelihood -log p(x | h = f(x~)) (eq. 14.9 / 20.81 with a
Bernoulli p). Walkback (section 20.11.3): run the chain ``walkback`` steps from each
training example and penalise every reconstruction against the *original* example, so
that the spurious modes a chain visits far from the data are pushed back towards it.
``walkback = 1`` is ordinary one-step training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.corruption import check_corruption, corrupt

MAX_WALKBACK = 20


@dataclass
class ChainState:
    """Where a chain is: ``x`` the current sample (N, D), ``mean`` the Bernoulli means it was drawn from,
    ``h`` the latent state carried from step to step (a GSN's top layer; None for a DAE)."""

    x: torch.Tensor
    mean: torch.Tensor
    h: torch.Tensor | None = None


@dataclass
class DAEConfig:
    height: int
    width: int
    n_hidden: int = 500
    corruption: str = "salt_pepper"
    noise: float = 0.3
    walkback: int = 1

    @property
    def n_visible(self) -> int:
        return self.height * self.width

    def check(self) -> None:
        if self.height < 1 or self.width < 1:
            raise ValueError(f"image height and width must be at least 1, got {self.height}x{self.width}")
        if not 1 <= self.n_hidden <= 10000:
            raise ValueError(f"n_hidden must be between 1 and 10000, got {self.n_hidden}")
        check_walkback(self.walkback)
        check_corruption(self.corruption, self.noise)


def check_walkback(walkback: int) -> None:
    if not 1 <= int(walkback) <= MAX_WALKBACK:
        raise ValueError(f"walkback steps must be between 1 (one-step training) and {MAX_WALKBACK}, got {walkback}")


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | h) per example for a factorial Bernoulli with logits ``logits`` (N, D) -> (N,)."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def sample_bernoulli(mean: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """x ~ Bernoulli(mean), elementwise."""
    return (torch.rand(mean.shape, generator=generator, device=mean.device) < mean).to(mean.dtype)


class DAE(nn.Module):
    """Denoising autoencoder with a Bernoulli reconstruction distribution and tied weights."""

    kind = "dae"

    def __init__(self, config: DAEConfig, generator: torch.Generator | None = None):
        super().__init__()
        config.check()
        self.config = config
        scale = 1.0 / config.n_visible**0.5
        self.W = nn.Parameter(scale * torch.randn(config.n_visible, config.n_hidden, generator=generator))
        self.b = nn.Parameter(torch.zeros(config.n_visible))
        self.c = nn.Parameter(torch.zeros(config.n_hidden))

    # ---------------------------------------------------------------- the autoencoder

    def encode(self, x_tilde: torch.Tensor) -> torch.Tensor:
        """h = f(x~) = sigmoid(x~ W + c)."""
        return torch.sigmoid(torch.addmm(self.c, x_tilde, self.W))

    def decode_logits(self, h: torch.Tensor) -> torch.Tensor:
        """Logits of p(x | h): h W^T + b."""
        return torch.addmm(self.b, h, self.W.t())

    def reconstruct_logits(self, x_tilde: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Logits of p(x | f(x~)), the denoising distribution the DAE learns (deterministic: ``generator`` is for
        the GSN's signature, whose reconstruction draws its latent start)."""
        return self.decode_logits(self.encode(x_tilde))

    # ---------------------------------------------------------------- training

    def walkback_losses(self, x: torch.Tensor, generator: torch.Generator | None = None, walkback: int | None = None) -> torch.Tensor:
        """Mean reconstruction NLL of each walkback step, shape (walkback,).

        Step k corrupts the chain's previous sample x_{k-1} (x_0 = x), reconstructs, and is
        penalised by -log p(x | f(x~_k)) against the original x; x_k ~ p(. | f(x~_k)) is
        sampled (no gradient flows through the sample). With walkback = 1 this is the
        ordinary denoising criterion.
        """
        k = self.config.walkback if walkback is None else int(walkback)
        check_walkback(k)
        losses, current = [], x
        for _ in range(k):
            logits = self.reconstruct_logits(corrupt(current, self.config.corruption, self.config.noise, generator))
            losses.append(reconstruction_nll(logits, x).mean())
            current = sample_bernoulli(torch.sigmoid(logits.detach()), generator)
        return torch.stack(losses)

    # ---------------------------------------------------------------- the Markov chain (Figure 20.11)

    def init_chain(self, x: torch.Tensor) -> ChainState:
        """Start a chain at x (N, D)."""
        return ChainState(x=x, mean=x)

    @torch.no_grad()
    def chain_step(self, state: ChainState, generator: torch.Generator | None = None, noise: float | None = None) -> ChainState:
        """One step x -> x~ -> h -> p(x | h) -> x' (``noise`` overrides the training corruption level)."""
        level = self.config.noise if noise is None else noise
        mean = torch.sigmoid(self.reconstruct_logits(corrupt(state.x, self.config.corruption, level, generator)))
        return ChainState(x=sample_bernoulli(mean, generator), mean=mean)

    # ---------------------------------------------------------------- checkpoints

    def tensors(self) -> dict[str, torch.Tensor]:
        return {"W": self.W.data, "b": self.b.data, "c": self.c.data}

    def config_dict(self) -> dict:
        return {"model": self.kind, **asdict(self.config)}

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"W": (self.config.n_visible, self.config.n_hidden), "b": (self.config.n_visible,), "c": (self.config.n_hidden,)}
