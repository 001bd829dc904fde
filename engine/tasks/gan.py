"""Run tasks for the GAN pages, and every GAN page's parameters, declared once.

The 2-D GAN (:class:`GAN2DTask`, every control live) and the MNIST GAN (:class:`MnistGANTask`)
follow :class:`engine.run.Task`: ``PARAMS``, ``reset(params)``, ``step(params)``, ``arrays()``,
plus ``check_params`` (what depends on the data: the user's points, the checkpoint),
``nonfinite``, ``state``/``restore`` so a learning rate that blows up pauses the run and rolls
it back. The a*b game and the Dirac-GAN have no Run (the page computes whole trajectories on
each rerun); their parameters are declared here too (:data:`GAME_PARAMS`, :data:`DIRAC_PARAMS`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine import checkpoint
from engine.data import TOY_2D, toy_points
from engine.eval.neighbours import nearest_neighbours
from engine.models.game import DIRAC_LOSSES
from engine.models.gan import (
    LOSSES,
    OPTIMIZERS,
    VIEW,
    GAN2DConfig,
    GAN2DTrainer,
    discriminator_grid,
    fit_user_points,
    generator_push,
    is_finite_model,
    jitter_points,
    js_divergence_histogram,
    latent_mesh,
    mode_quality,
    spread,
)
from engine.models.gan_mnist import MnistGANConfig, MnistGANTrainer, fixed_noise, model_from_checkpoint
from engine.pair import Comparison
from engine.params import ARRAY, RESET, Param, Params

PRETRAINED_MNIST = Path(__file__).resolve().parents[2] / "assets" / "gan" / "mnist_mlp"
DATA_2D = (*TOY_2D, "custom")
"""Targets of the 2-D GAN: the toy distributions of engine.data and the user's own points (``custom``)."""
N_TARGET = 4000
N_SHOW = 400
N_ARROWS = 120
EVAL_EVERY = 25
WRECKED_SPREAD = 1e4
"""A 2-D GAN is wrecked when its generated points fly off: their median distance from the data's centre passes 10⁴ times
the data's radius (engine.models.gan.spread, on the N_SHOW points the page draws). Measured every step from seeds 0-2 over
400 steps: the presets that train stay under 13 (12.6: the mode-collapse preset's generator chasing modes; the others
under 1.4); the exploding-SGD preset's points reach 450-840 radii, then infinity, and its weights become NaN at step 4
or 5 (that lesson is the NaN check's); Adam at lr_G = 10 throws them 6.2e5-9.2e5 radii out at step 1, and at the first
step after lr_G is raised to 10 at step 200 (lr_G = 3: 1.7e4-2.6e4 at step 1; lr_G = 1: under 10⁴ from a fresh start,
past it at one seed in three when raised at step 200)."""
ARCH_KEYS = ("noise_dim", "width_g", "width_d", "depth_g", "depth_d", "seed")
"""Parameters that change the networks' shapes (or their seed): changing one starts from fresh networks."""

LOSS_NAMES = {"minimax": "minimax", "nonsaturating": "non-saturating", "leastsquares": "least squares", "wgan-gp": "WGAN-GP"}
DATA_NAMES = {"ring": "ring of 8", "grid": "5×5 grid", "spiral": "spiral", "moons": "two moons", "gaussian": "one Gaussian", "custom": "your points"}
LOSS_HELP = "Minimax: G minimizes log(1 − D(G(z))); non-saturating: G maximizes log D(G(z)) (section 20.10.4); least squares: Mao et al. (2017)."
NETWORK_HELP = "Changing it starts from fresh networks."
_CFG_2D = GAN2DConfig()
"""The model's own defaults are the declared ones (one spelling of each)."""

GAN2D_PARAMS = Params(
    Param("data", "ring", str, choices=DATA_2D, label="Target distribution", labels=DATA_NAMES,
          help="The 2-D distribution G learns; 'your points' trains on small Gaussian blobs around points you place."),
    Param("loss", _CFG_2D.loss, str, choices=LOSSES, label="Loss", labels=LOSS_NAMES, help=LOSS_HELP + " WGAN-GP: a critic with a gradient penalty (Gulrajani et al. 2017)."),
    Param("optimizer", _CFG_2D.optimizer, str, choices=OPTIMIZERS, label="Optimizer", labels={"adam": "Adam", "sgd": "SGD"},
          help="For both players: Adam with β₁ = 0.5, or plain SGD."),
    Param("lr_g", _CFG_2D.lr_g, float, 1e-6, 10.0, ticks=(1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
          label="Learning rate of G", symbol="η_G"),
    Param("lr_d", _CFG_2D.lr_d, float, 1e-6, 10.0, ticks=(1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
          label="Learning rate of D", symbol="η_D"),
    Param("d_steps", _CFG_2D.d_steps, int, 1, 20, step=1, label="D steps per G step", symbol="k"),
    Param("batch_size", _CFG_2D.batch_size, int, 8, 4096, ticks=(32, 64, 128, 256, 512), label="Batch size", unit="samples",
          help="Real and generated samples per step, for each player."),
    Param("seed", _CFG_2D.seed, int, 0, 9999, label="Seed", help="Initial weights, target samples and noise. " + NETWORK_HELP),
    Param("noise_dim", _CFG_2D.noise_dim, int, 1, 256, ticks=(1, 2, 4, 8, 16), label="Noise dimension", symbol="dim z", help=NETWORK_HELP),
    Param("width_g", _CFG_2D.width_g, int, 4, 512, ticks=(16, 32, 64, 128, 256), label="G hidden units per layer", help=NETWORK_HELP),
    Param("depth_g", _CFG_2D.depth_g, int, 1, 6, step=1, label="G hidden layers", help=NETWORK_HELP),
    Param("width_d", _CFG_2D.width_d, int, 4, 512, ticks=(16, 32, 64, 128, 256), label="D hidden units per layer", help=NETWORK_HELP),
    Param("depth_d", _CFG_2D.depth_d, int, 1, 6, step=1, label="D hidden layers", help=NETWORK_HELP),
    Param("gp_weight", _CFG_2D.gp_weight, float, 0.0, 100.0, ticks=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0), label="Gradient-penalty weight", symbol="λ",
          help="WGAN-GP only: the weight of E[(|∇D(x̂)| − 1)²]."),
    Param("heat_res", 32, int, 8, 128, label="Heatmap resolution", unit="cells per side", cli=False, help="The grid D's output is drawn on."),
    Param("user_points", (), ARRAY, label="Your points", cli=False, help="The placed points as a flat (x₁, y₁, x₂, y₂, ...); used when the target is 'your points'."),
)  # fmt: skip
"""The 2-D GAN's parameters: the 2-D page's widgets, ``genlab train gan``'s options and the Run's checks."""

PRESETS_2D: dict[str, dict[str, Any]] = {
    "Balanced (the cure)": {"data": "ring", "loss": "nonsaturating", "optimizer": "adam", "lr_g": 1e-3, "lr_d": 1e-3, "d_steps": 1, "seed": 0},
    "Mode collapse: D learns 33x slower": {"data": "ring", "loss": "nonsaturating", "optimizer": "adam", "lr_g": 1e-3, "lr_d": 3e-5, "d_steps": 1, "seed": 0},
    "WGAN-GP, 5 critic steps": {"data": "grid", "loss": "wgan-gp", "optimizer": "adam", "lr_g": 1e-3, "lr_d": 1e-3, "d_steps": 5, "seed": 0},
    "Exploding learning rate (SGD)": {"data": "ring", "loss": "minimax", "optimizer": "sgd", "lr_g": 10.0, "lr_d": 10.0, "d_steps": 1, "seed": 0},
}
"""Measured over seeds 0-5 on the AVX-512 and default ATen paths (2500 samples): after 2000 steps the cure covers 7 or 8
of the 8 ring modes with 65-82% high-quality samples and at most 18% of the samples nearest one mode; with D 33x slower,
checked every 100 steps from 1000 to 2000, on average 86-99% of the samples sit nearest one mode (the generator hops from
mode to mode) and never more than 1 of 8 modes is covered. D only 10x slower collapsed at seed 0 but not at seed 2 (46% on
one mode), nor on every CPU (see tests/engine/test_gan.py)."""


COMPARISONS_2D = (
    Comparison("minimax against non-saturating G loss", {"loss": "minimax"}, {"loss": "nonsaturating"},
               why="With minimax, G's gradient vanishes where D rejects its samples confidently; the non-saturating loss keeps it strong (section 20.10.4)."),
    Comparison("1 against 5 D steps per G step", {"d_steps": 1}, {"d_steps": 5},
               why="A discriminator trained closer to its optimum gives G a better-informed but sharper gradient."),
)  # fmt: skip
"""The GAN 2-D page's pairs (lab.compare)."""

def config_from(params: Mapping[str, Any]) -> GAN2DConfig:
    """The GAN2DConfig part of a flat parameter dict."""
    fields = GAN2DConfig.__dataclass_fields__
    return GAN2DConfig(**{k: params[k] for k in fields if k in params})


def target_points(params: Mapping[str, Any]) -> np.ndarray:
    """Training samples for ``params['data']``: a toy distribution, or jitter around the user's points."""
    if params["data"] == "custom":
        pts, _ = fit_user_points(np.asarray(params["user_points"], dtype=float))
        return jitter_points(pts, N_TARGET, seed=params["seed"])
    return toy_points(params["data"], N_TARGET, seed=params["seed"]).points


class GAN2DTask:
    """A 2-D GAN that trains one generator step (after k discriminator steps) per Run step (section 20.10.4)."""

    divergence_hint = "lower lr_G (and lr_D if it is as large) below 0.01 with Adam or 0.1 with SGD"
    PARAMS = GAN2D_PARAMS

    def __init__(self) -> None:
        self.trainer: GAN2DTrainer | None = None
        self._key: tuple = ()

    def check_params(self, params: Mapping[str, Any]) -> None:
        """The user's points, when they are the target: at least three (the ranges are the declarations')."""
        if params["data"] == "custom":
            fit_user_points(np.asarray(params["user_points"], dtype=float))

    def reset(self, params: Mapping[str, Any]) -> None:
        self.trainer = GAN2DTrainer(config_from(params), target_points(params))
        self.params = dict(params)
        self._key = self._data_key(params)
        self.flown = False

    @staticmethod
    def _data_key(params: Mapping[str, Any]) -> tuple:
        return params["data"], params["user_points"], params["seed"]

    def _follow(self, params: Mapping[str, Any]) -> None:
        """Adopt changed parameters: a new target or architecture rebuilds what it must, the rest is retuned."""
        if any(params.get(k) != self.params.get(k) for k in ARCH_KEYS):
            self.reset(params)
            return
        if self._data_key(params) != self._key:
            self.trainer.target = torch.from_numpy(target_points(params))
            self._key = self._data_key(params)
        self.trainer.retune(config_from(params))
        self.params = dict(params)

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        if dict(params) != self.params:
            self._follow(params)
        metrics = self.trainer.train_step()
        if self.trainer.steps % EVAL_EVERY == 0 or self.trainer.steps == 1:
            metrics.update(self.evaluate())
        return metrics

    def spread(self) -> float:
        """How far the drawn generated points lie from the data, in data radii (engine.models.gan.spread)."""
        return spread(self.trainer.sample(N_SHOW), self.trainer.target.numpy())

    def wrecked(self, metrics: Mapping[str, float]) -> str | None:
        """Finite but ruined: the generated points flew off, past :data:`WRECKED_SPREAD` data radii from the data's
        centre (a learning rate far too large, e.g. lr_G = 10 with Adam). It says so when they fly off, not again while
        they stay out, so Play after lowering lr_G lets them come back. Points at infinity (float32 overflow) are left
        to the NaN check, which a step later rolls the model back."""
        value = self.spread()
        was, self.flown = self.flown, WRECKED_SPREAD < value < math.inf
        if self.flown and not was:
            return f"the generated points flew off, to a median distance from the data's centre of {value:,.0f} times the data's radius"
        return None

    def evaluate(self, n: int = 1000) -> dict[str, float]:
        """Histogram JS divergence, and for ring and grid the modes covered and the high-quality share."""
        fake = self.trainer.sample(n)
        real = self.trainer.target[:n].numpy()
        out = {"js": js_divergence_histogram(real, fake) if np.isfinite(fake).all() else float("nan")}
        data = self.params["data"]
        if data in ("ring", "grid") and np.isfinite(fake).all():
            ps = toy_points(data, 1)
            q = mode_quality(fake, ps.centers, ps.mode_std)
            out.update(modes_covered=q["modes_covered"], high_quality=q["high_quality"])
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        tr = self.trainer
        fake = torch.nan_to_num(torch.from_numpy(tr.sample(N_SHOW)), nan=0.0, posinf=VIEW, neginf=-VIEW)
        return {
            "real": tr.target[:N_SHOW].numpy(),
            "fake": fake.numpy(),
            "push": np.nan_to_num(generator_push(tr.model, fake[:N_ARROWS], tr.cfg.loss)),
            "heat": np.nan_to_num(discriminator_grid(tr.model, tr.cfg.loss, self.params["heat_res"])),
            "mesh": np.nan_to_num(latent_mesh(tr.model)),
        }

    def nonfinite(self) -> str | None:
        if not is_finite_model(self.trainer.model.G):
            return "generator weights"
        if not is_finite_model(self.trainer.model.D):
            return "discriminator weights"
        return None

    def shared_data(self) -> tuple:
        """Nothing is only read (engine.timeline): the toy data is small and is rebuilt when its settings change."""
        return ()

    def state(self) -> dict[str, Any]:
        tr = self.trainer
        return {
            "model": copy.deepcopy(tr.model.state_dict()),
            "opt_g": copy.deepcopy(tr.opt_g.state_dict()),
            "opt_d": copy.deepcopy(tr.opt_d.state_dict()),
            "steps": tr.steps,
            "params": dict(self.params),
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        if any(state["params"].get(k) != self.params.get(k) for k in ARCH_KEYS):
            self.reset(state["params"])
        tr = self.trainer
        tr.model.load_state_dict(state["model"])
        tr.opt_g.load_state_dict(state["opt_g"])
        tr.opt_d.load_state_dict(state["opt_d"])
        tr.steps = state["steps"]
        self.flown = WRECKED_SPREAD < self.spread() < math.inf


# --------------------------------------------------------------------------- the MNIST GAN

MNIST_LOSSES = ("nonsaturating", "minimax", "leastsquares")
_CFG_MNIST = MnistGANConfig()
"""The model's own defaults are the declared ones (one spelling of each)."""
MNIST_LRS = (2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 3e-3, 0.01, 0.1)

MNIST_PARAMS = Params(
    Param("start", "pretrained", str, choices=("pretrained", "scratch"), when=RESET, label="Start from",
          help="The checkpoint assets/gan/mnist_mlp (6000 steps), or fresh networks of the noise dimension and width below."),
    Param("loss", _CFG_MNIST.loss, str, choices=MNIST_LOSSES, label="Loss", labels=LOSS_NAMES, help=LOSS_HELP),
    Param("lr_g", _CFG_MNIST.lr_g, float, 1e-6, 10.0, ticks=MNIST_LRS, label="Learning rate of G", symbol="η_G", help="Adam (β₁ = 0.5); 2e-4 is the usual setting."),
    Param("lr_d", _CFG_MNIST.lr_d, float, 1e-6, 10.0, ticks=MNIST_LRS, label="Learning rate of D", symbol="η_D", help="Adam (β₁ = 0.5); 2e-4 is the usual setting."),
    Param("batch_size", _CFG_MNIST.batch_size, int, 8, 4096, ticks=(16, 32, 64, 128, 256), label="Batch size", unit="images",
          help="Training images and generated images per step."),
    Param("seed", _CFG_MNIST.seed, int, 0, 9999, when=RESET, label="Seed", help="Initial weights (from scratch) and the batches."),
    Param("noise_dim", _CFG_MNIST.noise_dim, int, 1, 256, ticks=(8, 16, 32, 64, 128), when=RESET, label="Noise dimension", symbol="dim z",
          help="From scratch only (the pretrained net's is 32)."),
    Param("width", _CFG_MNIST.hidden_g[0], int, 4, 1024, ticks=(16, 32, 64, 128, 256, 512), when=RESET, label="Hidden width", unit="units",
          help="From scratch only: G's hidden layers have width and 2·width units, D's 2·width and width (the pretrained net's: 256)."),
)  # fmt: skip
"""The MNIST GAN's parameters: the MNIST page's widgets, ``genlab train gan --data mnist``'s options and the Run's checks.
The parameters both GANs have share the 2-D GAN's ranges (``genlab train gan`` has one option for each); the defaults differ."""

N_GRID = 64
N_NEAREST = 8
NEAREST_EVERY = 50
"""The nearest training images of the first samples are searched again once this many steps have passed since the
last search: one search through the 10,000 images took 30 ms (two training steps), and a page shows the samples up
to 60 times a second. Counted in steps, not seconds, so a run resumed from a kept moment repeats its pictures."""
WRECKED_D_FAKE = (0.01, 50)
"""The MNIST GAN is wrecked when D(G(z)) stays below 0.01 (D tells every generated image from a real one) or above 0.99
(D takes every one for real) for 50 steps in a row. Measured on the 10,000 MNIST test images from seeds 0-2: with the
default settings, from the checkpoint or from scratch, D(G(z)) stays within 0.014-0.94 over 500 steps and never two
steps in a row below 0.05 or above 0.95; at lr_G = 0.1 it sinks below 0.01 for good, pausing the run at steps 94-138
from the checkpoint and 70-263 from scratch."""


MNIST_COMPARISONS = (
    Comparison("minimax against non-saturating G loss", {"loss": "minimax"}, {"loss": "nonsaturating"},
               why="With minimax, G's gradient vanishes where D rejects its samples confidently; the non-saturating loss keeps it strong (section 20.10.4)."),
)  # fmt: skip
"""The GAN on MNIST page's pair (lab.compare)."""

def read_pretrained() -> checkpoint.Checkpoint | None:
    """The shipped MNIST GAN (assets/gan/mnist_mlp), or None when its files are absent; CheckpointError when they are malformed."""
    if not all(f.exists() for f in checkpoint.paths(PRETRAINED_MNIST)):
        return None
    return checkpoint.read(PRETRAINED_MNIST, "gan")


def pretrained_samples(ckpt: checkpoint.Checkpoint) -> np.ndarray:
    """G(z) of a checkpoint's generator for the page's fixed z (:func:`engine.models.gan_mnist.fixed_noise`), as
    images in [0, 1]: what the GAN page shows at step 0, drawn without the data training needs."""
    model, cfg = model_from_checkpoint(ckpt)
    return np.nan_to_num(model.images(fixed_noise(N_GRID, cfg.noise_dim)))


class MnistGANTask:
    """The MLP GAN on MNIST, from the pretrained checkpoint or from scratch; one D step and one G step per Run step
    (section 20.10.4)."""

    divergence_hint = "lower lr_G to 2e-4, the usual Adam setting (and lr_D if it is as large)"
    PARAMS = MNIST_PARAMS

    def __init__(self, images01: np.ndarray, pretrained: checkpoint.Checkpoint | None = None):
        self.images = np.asarray(images01, dtype=np.float32).reshape(len(images01), -1)
        self.pretrained = pretrained

    def check_params(self, params: Mapping[str, Any]) -> None:
        """Starting from the checkpoint needs one (the ranges are the declarations')."""
        if params["start"] == "pretrained" and self.pretrained is None:
            raise ValueError(f"start='pretrained' needs the checkpoint {PRETRAINED_MNIST.relative_to(PRETRAINED_MNIST.parents[2])}; choose 'scratch'")

    def _config(self, params: Mapping[str, Any]) -> MnistGANConfig:
        """The pretrained net's sizes or the declared ones (G: width, 2·width; D: 2·width, width), with the training settings of ``params``."""
        if params["start"] == "pretrained":
            cfg = MnistGANConfig.from_dict(self.pretrained.config)
        else:
            w = params["width"]
            cfg = MnistGANConfig(noise_dim=params["noise_dim"], hidden_g=(w, 2 * w), hidden_d=(2 * w, w))
        cfg.loss, cfg.lr_g, cfg.lr_d, cfg.batch_size, cfg.seed = params["loss"], params["lr_g"], params["lr_d"], params["batch_size"], params["seed"]
        return cfg

    def reset(self, params: Mapping[str, Any]) -> None:
        cfg = self._config(params)
        model = model_from_checkpoint(self.pretrained)[0] if params["start"] == "pretrained" else None
        self.trainer = MnistGANTrainer(cfg, self.images, model=model)
        self.z = fixed_noise(N_GRID, cfg.noise_dim)
        self.source = f"pretrained ({self.pretrained.extra.get('steps', '?')} steps)" if model is not None else f"scratch ({cfg.noise_dim}-{'-'.join(map(str, cfg.hidden_g))}-784)"
        self.decided = (0, 0)
        self.nearest: dict[str, np.ndarray] = {}

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        self.trainer.retune(params["lr_g"], params["lr_d"], params["loss"])
        self.trainer.cfg.batch_size = params["batch_size"]
        return self.trainer.train_step()

    def wrecked(self, metrics: Mapping[str, float]) -> str | None:
        """Finite but ruined: D has decided, D(G(z)) outside [0.01, 0.99] on the same side for 50 steps in a row
        (:data:`WRECKED_D_FAKE`). At lr_G = 0.1 the generator's pixels saturate at ±1 and D rejects them all; with
        the game balanced (section 20.10.4) D(G(z)) wanders around its middle. After saying so it counts afresh."""
        edge, steps = WRECKED_D_FAKE
        d_fake = metrics["d_fake"]
        side = -1 if d_fake < edge else 1 if d_fake > 1 - edge else 0
        run = self.decided[1] + 1 if side == self.decided[0] else 1
        self.decided = (side, run)
        if side == 0 or run < steps:
            return None
        self.decided = (0, 0)
        if side < 0:
            return f"D(G(z)) has stayed below {edge:g} for {steps} steps in a row: D tells every generated image from a real one"
        return f"D(G(z)) has stayed above {1 - edge:g} for {steps} steps in a row: D takes every generated image for real"

    def arrays(self) -> dict[str, np.ndarray]:
        """G(z) for the fixed z, and the first samples beside their nearest training images (searched again once
        :data:`NEAREST_EVERY` steps have passed: ``nearest_samples`` are the samples of step ``nearest_step``)."""
        grid = np.nan_to_num(self.trainer.model.images(self.z))
        if not self.nearest or self.trainer.steps - int(self.nearest["nearest_step"]) >= NEAREST_EVERY:
            samples = grid[:N_NEAREST]
            idx, dist = nearest_neighbours(samples.reshape(N_NEAREST, -1), self.images)
            self.nearest = {"nearest_samples": samples, "nearest": self.images[idx].reshape(-1, 28, 28), "nearest_dist": dist, "nearest_index": idx,
                            "nearest_step": np.array(self.trainer.steps)}  # fmt: skip
        return {"grid": grid, **self.nearest}

    def nonfinite(self) -> str | None:
        return None if is_finite_model(self.trainer.model) else "network weights"

    def shared_data(self) -> tuple:
        """What training only reads (engine.timeline): the images, the checkpoint and the trainer's copy of the data."""
        return (self.images, self.pretrained, self.trainer.data)

    def state(self) -> dict[str, Any]:
        tr = self.trainer
        return {"model": copy.deepcopy(tr.model.state_dict()), "opt_g": copy.deepcopy(tr.opt_g.state_dict()), "opt_d": copy.deepcopy(tr.opt_d.state_dict()), "steps": tr.steps}

    def restore(self, state: Mapping[str, Any]) -> None:
        tr = self.trainer
        tr.model.load_state_dict(state["model"])
        tr.opt_g.load_state_dict(state["opt_g"])
        tr.opt_d.load_state_dict(state["opt_d"])
        tr.steps = state["steps"]
        self.decided = (0, 0)
        self.nearest = {}


# --------------------------------------------------------------------------- the a*b game and the Dirac-GAN (no Run)

GAME_PARAMS = Params(
    Param("lr", 0.2, float, 0.01, 1.5, ticks=(0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5), label="Step size", symbol="η"),
    Param("steps", 100, int, 10, 500, step=10, label="Steps", help="Updates drawn from the start point."),
    Param("gamma", 1.0, float, 0.0, 2.0, step=0.1, label="Consensus weight", symbol="γ", help="The consensus rule's weight on −∇(|v|²/2)."),
)  # fmt: skip
"""The a*b game's parameters (engine.models.game.bilinear_trajectory)."""

DIRAC_PARAMS = Params(
    Param("loss", "minimax", str, choices=DIRAC_LOSSES, label="Loss", labels={"minimax": "minimax", "nonsaturating": "non-saturating", "wgan": "WGAN (no clipping)"}),
    Param("lr", 0.1, float, 0.01, 1.0, ticks=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0), label="Step size", symbol="η"),
    Param("r1", 0.0, float, 0.0, 2.0, step=0.1, label="R1 weight", symbol="γ", help="0 = no regularizer."),
    Param("noise", 0.0, float, 0.0, 1.0, step=0.05, label="Instance noise", symbol="σ", help="0 = no noise."),
    Param("steps", 500, int, 50, 2000, step=50, label="Steps", help="Updates drawn from the start point."),
)  # fmt: skip
"""The Dirac-GAN's parameters (engine.models.game.DiracGAN)."""
