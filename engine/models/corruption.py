"""The corruption process C(x~ | x) of a denoising autoencoder (book section 14.5 and 20.11).

Three kinds, each with one level in [0, 1] (or a standard deviation for Gaussian noise):

- ``salt_pepper``: each pixel, with probability ``level``, is replaced by a fair coin
  (0 or 1); otherwise it is kept. On binary pixels, P(x~_i != x_i) = level / 2.
- ``masking``: each pixel, with probability ``level``, is set to 0 (dropped out).
- ``gaussian``: x~ = x + level * N(0, I) (isotropic Gaussian noise; not enumerable).

``corruption_log_prob`` gives log C(x~ | x) exactly for binary x and x~ under the two
discrete kinds: it is what an exact, enumerated Markov chain (see ``dae_exact``) needs.
"""

from __future__ import annotations

import torch

CORRUPTIONS = ("salt_pepper", "gaussian", "masking")
DISCRETE_CORRUPTIONS = ("salt_pepper", "masking")
MAX_GAUSSIAN_STD = 3.0


def check_corruption(kind: str, level: float) -> None:
    """ValueError naming the parameter and its allowed range."""
    if kind not in CORRUPTIONS:
        raise ValueError(f"corruption must be one of {', '.join(CORRUPTIONS)}, got {kind!r}")
    top = MAX_GAUSSIAN_STD if kind == "gaussian" else 1.0
    if not 0.0 <= float(level) <= top:
        raise ValueError(f"noise level for {kind} corruption must be between 0 and {top:g}, got {level}")


def corrupt(x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw x~ ~ C(x~ | x) for a batch x (N, D) with values in [0, 1]."""
    check_corruption(kind, level)
    if level == 0:
        return x
    if kind == "gaussian":
        return x + level * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    hit = torch.rand(x.shape, generator=generator, device=x.device) < level
    if kind == "masking":
        return torch.where(hit, torch.zeros_like(x), x)
    coin = (torch.rand(x.shape, generator=generator, device=x.device) < 0.5).to(x.dtype)
    return torch.where(hit, coin, x)


def corruption_log_prob(x_tilde: torch.Tensor, x: torch.Tensor, kind: str, level: float) -> torch.Tensor:
    """log C(x~ | x) for binary vectors, summed over pixels; broadcasts x~ (..., D) against x (..., D).

    salt_pepper: a pixel keeps its value with probability 1 - level/2 and flips with level/2.
    masking: a 1 becomes 0 with probability ``level``; a 0 stays 0 (a 0 -> 1 move is impossible).
    """
    check_corruption(kind, level)
    if kind not in DISCRETE_CORRUPTIONS:
        raise ValueError(f"corruption_log_prob needs a discrete corruption ({', '.join(DISCRETE_CORRUPTIONS)}), got {kind!r}")
    x_tilde, x = x_tilde.double(), x.double()
    if kind == "salt_pepper":
        same = (x_tilde == x).double()
        per_pixel = same * (1 - level / 2) + (1 - same) * (level / 2)
    else:
        per_pixel = x * (x_tilde * (1 - level) + (1 - x_tilde) * level) + (1 - x) * (1 - x_tilde)
    return torch.log(per_pixel).sum(-1)
