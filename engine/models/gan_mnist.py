"""A small MLP GAN on MNIST that trains on a CPU, with the book's memorization check.

Generator G(z): z ~ N(0, I) (noise_dim) -> hidden LeakyReLU layers -> 28x28 pixels
in [-1, 1] (tanh). Discriminator D(x): pixels -> hidden LeakyReLU layers -> a logit.
Trained with the non-saturating loss of book section 20.10.4 (G maximizes
log D(G(z))) and Adam. Section 20.14: to check that a generator does not just
replay its training set, show each sample beside its nearest training image
(engine.eval.neighbours).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from engine import checkpoint
from engine.eval.neighbours import nearest_neighbours
from engine.models.gan import d_loss, g_loss_per_sample, make_optimizer
from engine.models.optim import set_lr

PIXELS = 28 * 28


@dataclass
class MnistGANConfig:
    """Sizes (``noise_dim``, ``hidden_g``, ``hidden_d``) and training settings; the ranges are declared with the
    MNIST GAN task's parameters (engine.tasks.gan.MNIST_PARAMS)."""

    noise_dim: int = 32
    hidden_g: tuple[int, ...] = (256, 512)
    hidden_d: tuple[int, ...] = (512, 256)
    loss: str = "nonsaturating"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    batch_size: int = 64
    seed: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden_g"], d["hidden_d"] = list(self.hidden_g), list(self.hidden_d)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> MnistGANConfig:
        fields = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        for k in ("hidden_g", "hidden_d"):
            if k in fields:
                fields[k] = tuple(int(v) for v in fields[k])
        return cls(**fields)


def leaky_mlp(sizes: list[int], out_act: nn.Module | None = None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


class MnistGAN(nn.Module):
    """G: R^noise_dim -> [-1, 1]^784 and D: R^784 -> a logit (the ``logit`` interface of the 2-D GAN's losses)."""

    def __init__(self, cfg: MnistGANConfig):
        super().__init__()
        self.noise_dim = cfg.noise_dim
        self.G = leaky_mlp([cfg.noise_dim, *cfg.hidden_g, PIXELS], nn.Tanh())
        self.D = leaky_mlp([PIXELS, *cfg.hidden_d, 1])

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.noise_dim, generator=generator)

    def logit(self, x: torch.Tensor) -> torch.Tensor:
        return self.D(x).squeeze(-1)

    @torch.no_grad()
    def images(self, z: torch.Tensor) -> np.ndarray:
        """G(z) as images in [0, 1], (n, 28, 28)."""
        return ((self.G(z) + 1) / 2).clamp(0, 1).reshape(-1, 28, 28).numpy()


def to_model_space(x01: np.ndarray) -> torch.Tensor:
    """Pixels in [0, 1] (n, 784) -> [-1, 1], the generator's range."""
    return torch.from_numpy(np.asarray(x01, dtype=np.float32)) * 2 - 1


class MnistGANTrainer:
    """The model, Adam for each player, and the training images; ``train_step`` is one D step then one G step.

    The initial weights come from ``torch.manual_seed(seed)``; every draw while training (batches, noise) from the
    trainer's own generator, which goes on
    with that seed's stream (the numbers a lone run drew before), so runs side by side in one process stay reproducible."""

    def __init__(self, cfg: MnistGANConfig, images01: np.ndarray, model: MnistGAN | None = None):
        self.cfg = cfg
        torch.manual_seed(cfg.seed)
        self.model = model if model is not None else MnistGAN(cfg)
        self.generator = torch.Generator()
        self.generator.set_state(torch.get_rng_state())  # the stream torch.manual_seed(seed) goes on with after the weights
        self.data = to_model_space(images01.reshape(len(images01), -1))
        self.opt_g = make_optimizer(self.model.G.parameters(), "adam", cfg.lr_g)
        self.opt_d = make_optimizer(self.model.D.parameters(), "adam", cfg.lr_d)
        self.steps = 0

    def retune(self, lr_g: float, lr_d: float, loss: str) -> None:
        set_lr(self.opt_g, lr_g)
        set_lr(self.opt_d, lr_d)
        self.cfg.lr_g, self.cfg.lr_d, self.cfg.loss = lr_g, lr_d, loss

    def train_step(self) -> dict[str, float]:
        cfg, m = self.cfg, self.model
        real = self.data[torch.randint(len(self.data), (cfg.batch_size,), generator=self.generator)]
        with torch.no_grad():
            fake = m.G(m.noise(cfg.batch_size, self.generator))
        ld = d_loss(m, real, fake, cfg.loss)
        self.opt_d.zero_grad(set_to_none=True)
        ld.backward()
        self.opt_d.step()
        for p in m.D.parameters():
            p.requires_grad_(False)
        lf = m.logit(m.G(m.noise(cfg.batch_size, self.generator)))
        lg = g_loss_per_sample(lf, cfg.loss).mean()
        self.opt_g.zero_grad(set_to_none=True)
        lg.backward()
        self.opt_g.step()
        for p in m.D.parameters():
            p.requires_grad_(True)
        self.steps += 1
        return {"loss_d": float(ld.detach()), "loss_g": float(lg.detach()), "d_fake": float(torch.sigmoid(lf.detach()).mean())}


def fixed_noise(n: int, noise_dim: int, seed: int = 7) -> torch.Tensor:
    """The same z for every frame, so the grid shows one set of samples evolving."""
    return torch.randn(n, noise_dim, generator=torch.Generator().manual_seed(seed))


MODEL_NAME = "gan-mnist"
"""``config["model"]`` of an MNIST GAN checkpoint (the family "gan" also holds the 2-D GAN)."""
SIZE_KEYS = ("noise_dim", "hidden_g", "hidden_d")


def write_checkpoint(path: str | os.PathLike, model: MnistGAN, cfg: MnistGANConfig, extra: dict[str, Any], dtype: torch.dtype = torch.float16) -> Path:
    """The weights (float16 keeps the file under 5 MB) in the one schema: ``config`` the sizes that rebuild the
    networks, ``extra`` what they were trained on and how."""
    sizes = {k: v for k, v in cfg.to_dict().items() if k in SIZE_KEYS}
    return checkpoint.write(path, "gan", {k: v.detach().to(dtype) for k, v in model.state_dict().items()}, {"model": MODEL_NAME, **sizes}, extra)


def model_from_checkpoint(ckpt: checkpoint.Checkpoint) -> tuple[MnistGAN, MnistGANConfig]:
    """The MNIST GAN of a checkpoint read by engine.checkpoint.read; CheckpointError naming the file if it is another model or does not fit."""
    if ckpt.config.get("model") != MODEL_NAME:
        raise ckpt.fail(f"not an MNIST GAN (config model = {ckpt.config.get('model')!r}, expected {MODEL_NAME!r})")
    cfg = MnistGANConfig.from_dict(ckpt.config)
    model = MnistGAN(cfg)
    checkpoint.expect_shapes(ckpt.path, ckpt.tensors, {k: tuple(v.shape) for k, v in model.state_dict().items()})
    model.load_state_dict({k: v.float() for k, v in ckpt.tensors.items()})
    return model, cfg


def real_neighbour_distances(images01: np.ndarray, n: int = 200) -> np.ndarray:
    """Distances from the first n images to their nearest other image: the scale a memorizing generator would beat."""
    flat = np.asarray(images01, dtype=np.float32).reshape(len(images01), -1)
    return nearest_neighbours(flat[:n], flat[n:])[1]
