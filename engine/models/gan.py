"""A GAN on 2-D points: MLP generator G(z) and discriminator D(x), four losses, and its evaluators.

Book section 20.10.4 (Goodfellow et al. 2014): D is trained to tell real samples
from G's samples, G to fool D. The losses, with D's output a logit l(x):

- ``minimax``: D maximizes E_data[log sigma(l(x))] + E_z[log(1 - sigma(l(G(z))))];
  G minimizes E_z[log(1 - sigma(l(G(z))))] (saturates when D wins).
- ``nonsaturating``: same D; G maximizes E_z[log sigma(l(G(z)))] instead.
- ``leastsquares`` (Mao et al. 2017): D minimizes E_data[(l(x) - 1)^2] + E_z[l(G(z))^2] over 2;
  G minimizes E_z[(l(G(z)) - 1)^2] over 2.
- ``wgan-gp`` (Gulrajani et al. 2017): the critic maximizes E_data[l(x)] - E_z[l(G(z))]
  - lambda E[(|grad l(x_hat)| - 1)^2] at random interpolates x_hat; G maximizes E_z[l(G(z))].

Evaluators for targets with known modes (GAN Lab's and VEEGAN's): the share of
generated samples within 3 standard deviations of a mode ("high quality") and
the fraction of modes that receive enough of them ("covered"); a histogram
estimate of the Jensen-Shannon divergence between real and generated samples.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from engine import checkpoint
from engine.models.optim import set_lr

LOSSES = ("minimax", "nonsaturating", "leastsquares", "wgan-gp")
OPTIMIZERS = ("adam", "sgd")
VIEW = 3.0
"""The 2-D view is the square [-VIEW, VIEW]^2; the toy targets all fit inside it."""


@dataclass
class GAN2DConfig:
    """Architecture and training settings of the 2-D GAN (every field can change while it trains, except the sizes).

    Their allowed ranges are declared once, with the 2-D GAN task's parameters (engine.tasks.gan.GAN2D_PARAMS)."""

    loss: str = "nonsaturating"
    optimizer: str = "adam"
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    d_steps: int = 1
    noise_dim: int = 2
    width_g: int = 64
    width_d: int = 64
    depth_g: int = 2
    depth_d: int = 2
    batch_size: int = 128
    gp_weight: float = 0.1
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def mlp(n_in: int, width: int, depth: int, n_out: int) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` ReLU units, then a linear output."""
    layers: list[nn.Module] = []
    d = n_in
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.ReLU()]
        d = width
    layers.append(nn.Linear(d, n_out))
    return nn.Sequential(*layers)


class GAN2D(nn.Module):
    """G: R^noise_dim -> R^2 and D: R^2 -> a logit (or a critic value for WGAN-GP)."""

    def __init__(self, cfg: GAN2DConfig):
        super().__init__()
        self.noise_dim = cfg.noise_dim
        self.G = mlp(cfg.noise_dim, cfg.width_g, cfg.depth_g, 2)
        self.D = mlp(2, cfg.width_d, cfg.depth_d, 1)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I) of shape (n, noise_dim)."""
        return torch.randn(n, self.noise_dim, generator=generator)

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        """D's output l(x), shape (n,)."""
        return self.D(x).squeeze(-1)


# --------------------------------------------------------------------------- losses


def d_loss(model: GAN2D, real: torch.Tensor, fake: torch.Tensor, loss: str, gp_weight: float = 0.1, generator: torch.Generator | None = None) -> torch.Tensor:
    """The discriminator's loss (to minimize): the negative of its objective in the module docstring."""
    lr_, lf = model.logit(real), model.logit(fake)
    if loss in ("minimax", "nonsaturating"):  # -log sigma(l(x)) - log(1 - sigma(l(G(z))))
        return nn.functional.softplus(-lr_).mean() + nn.functional.softplus(lf).mean()
    if loss == "leastsquares":
        return 0.5 * ((lr_ - 1) ** 2).mean() + 0.5 * (lf**2).mean()
    if loss == "wgan-gp":
        return lf.mean() - lr_.mean() + gp_weight * gradient_penalty(model, real, fake, generator)
    raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")


def gradient_penalty(model: GAN2D, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """E[(|grad_x l(x_hat)| - 1)^2] at x_hat = u*real + (1-u)*fake, u ~ U(0, 1) (WGAN-GP)."""
    u = torch.rand(len(real), 1, generator=generator)
    x_hat = (u * real + (1 - u) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(model.logit(x_hat).sum(), x_hat, create_graph=True)
    return ((g.norm(dim=1) - 1) ** 2).mean()


def g_loss_per_sample(logit_fake: torch.Tensor, loss: str) -> torch.Tensor:
    """The generator's loss for each fake sample (its mean is what G minimizes)."""
    if loss == "minimax":  # log(1 - sigma(l)) = -softplus(l)
        return -nn.functional.softplus(logit_fake)
    if loss == "nonsaturating":  # -log sigma(l)
        return nn.functional.softplus(-logit_fake)
    if loss == "leastsquares":
        return 0.5 * (logit_fake - 1) ** 2
    if loss == "wgan-gp":
        return -logit_fake
    raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")


def d_is_probability(loss: str) -> bool:
    """Whether D's output under ``loss`` is a probability P(real) (the log losses) rather than a critic's score."""
    return loss in ("minimax", "nonsaturating")


def discriminator_probability(logit: torch.Tensor, loss: str) -> torch.Tensor:
    """What D says about x, for the heatmap: P(real) = sigma(l) for the log losses, l itself otherwise."""
    return torch.sigmoid(logit) if d_is_probability(loss) else logit


def generator_push(model: GAN2D, fake: torch.Tensor, loss: str) -> np.ndarray:
    """-d(G's loss)/dx at each fake sample x: the direction D's gradient pushes it, (n, 2)."""
    x = fake.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(g_loss_per_sample(model.logit(x), loss).sum(), x)
    return (-g).numpy()


# --------------------------------------------------------------------------- training


def make_optimizer(params, name: str, lr: float) -> torch.optim.Optimizer:
    """Adam with the GAN-usual betas (0.5, 0.999), or plain SGD."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
    return torch.optim.SGD(params, lr=lr)


class GAN2DTrainer:
    """The model, its two optimizers and a sampler of the target; ``train_step`` is k D-steps then one G-step.

    The initial weights come from ``torch.manual_seed(seed)``; every draw while training (real batches, noise, the
    gradient penalty's mixing) from the trainer's own generator, which goes on
    with that seed's stream (the numbers a lone run drew before), so runs side by side in one process stay reproducible."""

    def __init__(self, cfg: GAN2DConfig, target: np.ndarray):
        self.cfg = cfg
        torch.manual_seed(cfg.seed)
        self.model = GAN2D(cfg)
        self.generator = torch.Generator()
        self.generator.set_state(torch.get_rng_state())  # the stream torch.manual_seed(seed) goes on with after the weights
        self.opt_g = make_optimizer(self.model.G.parameters(), cfg.optimizer, cfg.lr_g)
        self.opt_d = make_optimizer(self.model.D.parameters(), cfg.optimizer, cfg.lr_d)
        self.target = torch.as_tensor(np.asarray(target, dtype=np.float32))
        self.steps = 0

    def real_batch(self, n: int) -> torch.Tensor:
        return self.target[torch.randint(len(self.target), (n,), generator=self.generator)]

    def retune(self, cfg: GAN2DConfig) -> None:
        """Adopt new live settings (losses, learning rates, k, batch, optimizer); sizes need a fresh trainer."""
        if cfg.optimizer != self.cfg.optimizer:
            self.opt_g = make_optimizer(self.model.G.parameters(), cfg.optimizer, cfg.lr_g)
            self.opt_d = make_optimizer(self.model.D.parameters(), cfg.optimizer, cfg.lr_d)
        set_lr(self.opt_g, cfg.lr_g)
        set_lr(self.opt_d, cfg.lr_d)
        self.cfg = cfg

    def train_step(self) -> dict[str, float]:
        """k discriminator steps, then one generator step on the last D step's fake batch (the generator's
        forward pass is shared, as in the usual training loop); returns both losses."""
        cfg, model = self.cfg, self.model
        for i in range(cfg.d_steps):
            if i < cfg.d_steps - 1:
                with torch.no_grad():
                    fake_d = model.G(model.noise(cfg.batch_size, self.generator))
            else:
                fake = model.G(model.noise(cfg.batch_size, self.generator))
                fake_d = fake.detach()
            ld = d_loss(model, self.real_batch(cfg.batch_size), fake_d, cfg.loss, cfg.gp_weight, self.generator)
            self.opt_d.zero_grad(set_to_none=True)
            ld.backward()
            self.opt_d.step()
        for p in model.D.parameters():
            p.requires_grad_(False)
        lg = g_loss_per_sample(model.logit(fake), cfg.loss).mean()
        self.opt_g.zero_grad(set_to_none=True)
        lg.backward()
        self.opt_g.step()
        for p in model.D.parameters():
            p.requires_grad_(True)
        self.steps += 1
        return {"loss_d": float(ld.detach()), "loss_g": float(lg.detach())}

    @torch.no_grad()
    def sample(self, n: int, seed: int = 1234) -> np.ndarray:
        """n generated points (n, 2) from a fixed noise seed (the same z every call)."""
        return self.model.G(self.model.noise(n, torch.Generator().manual_seed(seed))).numpy()



# --------------------------------------------------------------------------- checkpoints

MODEL_NAME = "gan-2d"
"""``config["model"]`` of a 2-D GAN checkpoint (the family "gan" also holds the MNIST GAN)."""
SIZE_KEYS = ("noise_dim", "width_g", "width_d", "depth_g", "depth_d")


def write_checkpoint(path: str | os.PathLike, model: GAN2D, cfg: GAN2DConfig, extra: dict[str, Any]) -> Path:
    """G's and D's weights in the one schema: ``config`` the sizes that rebuild them, ``extra`` what it was trained on and how."""
    config = {"model": MODEL_NAME, **{k: getattr(cfg, k) for k in SIZE_KEYS}}
    return checkpoint.write(path, "gan", {k: v.detach().clone() for k, v in model.state_dict().items()}, config, extra)


def model_from_checkpoint(ckpt: checkpoint.Checkpoint) -> GAN2D:
    """The 2-D GAN of a checkpoint read by engine.checkpoint.read; CheckpointError naming the file if it is another model or does not fit."""
    if ckpt.config.get("model") != MODEL_NAME:
        raise ckpt.fail(f"not a 2-D GAN (config model = {ckpt.config.get('model')!r}, expected {MODEL_NAME!r})")
    missing = [k for k in SIZE_KEYS if k not in ckpt.config]
    if missing:
        raise ckpt.fail(f"the config lacks {', '.join(missing)}")
    model = GAN2D(GAN2DConfig(**{k: int(ckpt.config[k]) for k in SIZE_KEYS}))
    checkpoint.expect_shapes(ckpt.path, ckpt.tensors, {k: tuple(v.shape) for k, v in model.state_dict().items()})
    model.load_state_dict(ckpt.tensors)
    return model


# --------------------------------------------------------------------------- pictures of the game


@torch.no_grad()
def discriminator_grid(model: GAN2D, loss: str, n: int = 40, view: float = VIEW) -> np.ndarray:
    """D's output on an n x n grid over [-view, view]^2, rows = y from bottom to top, (n, n)."""
    g = np.linspace(-view, view, n, dtype=np.float32)
    xx, yy = np.meshgrid(g, g)
    pts = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], 1))
    return discriminator_probability(model.logit(pts), loss).numpy().reshape(n, n)


@torch.no_grad()
def latent_mesh(model: GAN2D, n: int = 13, extent: float = 2.0) -> np.ndarray:
    """G applied to an n x n grid of z over [-extent, extent]^2 (z's other coordinates 0): (n, n, 2)."""
    g = torch.linspace(-extent, extent, n)
    zz = torch.zeros(n * n, model.noise_dim)
    a, b = torch.meshgrid(g, g, indexing="xy")
    zz[:, 0] = a.reshape(-1)
    if model.noise_dim > 1:
        zz[:, 1] = b.reshape(-1)
    return model.G(zz).numpy().reshape(n, n, 2)


# --------------------------------------------------------------------------- evaluation


def mode_quality(samples: np.ndarray, centers: np.ndarray, std: float, min_count: int | None = None) -> dict[str, float]:
    """Share of samples within 3 std of their nearest mode ("high quality") and fraction of modes covered.

    A mode is covered when at least ``min_count`` high-quality samples fall to it
    (default: 20 per 2500 samples, PacGAN's threshold, scaled to len(samples)).
    """
    samples = np.asarray(samples, dtype=np.float64)
    d = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)
    nearest = d.argmin(1)
    good = d[np.arange(len(samples)), nearest] <= 3 * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    need = max(1, round(20 * len(samples) / 2500)) if min_count is None else min_count
    return {
        "high_quality": float(good.mean()),
        "modes_covered": float((counts >= need).mean()),
        "modes_total": int(len(centers)),
    }


def js_divergence_histogram(real: np.ndarray, fake: np.ndarray, bins: int = 24, view: float = VIEW) -> float:
    """Jensen-Shannon divergence (nats, at most log 2) between 2-D histograms of the two sample sets.

    Points outside the view are clipped onto its border. A plug-in estimate:
    biased upwards for few samples per bin, but comparable over training.
    """
    edges = np.linspace(-view, view, bins + 1)

    def hist(x: np.ndarray) -> np.ndarray:
        x = np.clip(np.nan_to_num(np.asarray(x, dtype=np.float64)), -view, view)
        h, _, _ = np.histogram2d(x[:, 0], x[:, 1], bins=(edges, edges))
        return h.ravel() / max(h.sum(), 1)

    p, q = hist(real), hist(fake)
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> float:
        s = a > 0
        return float(np.sum(a[s] * np.log(a[s] / m[s])))

    return max(0.0, 0.5 * kl(p) + 0.5 * kl(q))


MIN_USER_POINTS = 3


def fit_user_points(points: np.ndarray, view: float = VIEW) -> tuple[np.ndarray, str]:
    """Check user-placed points and bring them into the view; returns (points, a message or "").

    Fewer than MIN_USER_POINTS points raise ValueError. Points beyond 90% of the
    view are shrunk about their centre so they fit (the message says so);
    non-finite points are dropped.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2) if len(points) else np.zeros((0, 2))
    pts = pts[np.isfinite(pts).all(1)]
    if len(pts) < MIN_USER_POINTS:
        raise ValueError(f"place at least {MIN_USER_POINTS} points to train on (got {len(pts)})")
    reach = float(np.abs(pts).max())
    limit = 0.9 * view
    if reach <= limit:
        return pts.astype(np.float32), ""
    centre = pts.mean(0)
    half = float(np.abs(pts - centre).max())
    scale = min(1.0, 0.8 * limit / max(half, 1e-9))
    fitted = (pts - centre) * scale
    return fitted.astype(np.float32), f"Your points reached {reach:.1f}, beyond the view (±{view:g}); they were centred and scaled by {scale:.2g} to fit."


def jitter_points(points: np.ndarray, n: int, std: float = 0.08, seed: int = 0) -> np.ndarray:
    """A target of n samples around user-placed points: each a placed point plus N(0, std^2) noise."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(len(points), size=n)
    return (points[idx] + std * rng.standard_normal((n, 2))).astype(np.float32)


def is_finite_model(model: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def mean_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Distance between the sample means of two point sets."""
    return float(math.dist(np.mean(a, 0), np.mean(b, 0)))


def spread(samples: np.ndarray, data: np.ndarray) -> float:
    """The samples' median distance from the data's mean, in units of the data's radius (the largest distance of a
    data point from that mean): about 1 or less for a generator on the data, huge for one whose points flew off."""
    centre = np.mean(data, 0)
    radius = float(np.linalg.norm(data - centre, axis=1).max())
    return float(np.median(np.linalg.norm(samples - centre, axis=1))) / radius
