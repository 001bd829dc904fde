"""RBM run tasks: training live (:class:`RBMTrainTask`) and Gibbs sampling chains (:class:`GibbsTask`).

Both implement the :class:`engine.run.Task` protocol. Hyperparameters that only change the
update (learning rate, momentum, k, CD/PCD, batch size, weight decay, centering) act on the next
step; the dataset, the number of hidden units and the seed take effect on Reset.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine import data as datasets
from engine.eval.ais import LogLikelihood, average_log_likelihood
from engine.eval.mcmc import autocorrelation, exact_visible_distribution, total_variation
from engine.eval.rbm_monitor import free_energy_gap, hidden_stats, pseudo_log_likelihood, reconstruction_error, update_ratio
from engine.models.clamp import region_mask
from engine.models.rbm import RBM, gibbs_step
from engine.models.rbm_training import METHODS, RBMTrainer, TrainConfig
from engine.pair import Comparison
from engine.params import RESET, Param, Params

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "rbm"
PRETRAINED = {"mnist": ASSETS / "mnist_pcd_500", "frey": ASSETS / "frey_gaussian"}
DATASETS = ("mnist", "frey", "digits", "bars-stripes")
MONITOR_EVERY = 20
"""Steps between two evaluations of the (more expensive) monitors."""
WRECKED_RECONSTRUCTION = (1.5, 0.25)
"""A run is wrecked when its reconstruction error exceeds 1.5 times its best plus a quarter of its starting value
(the slack keeps a well-trained model's tiny errors, e.g. 0.03 -> 0.06 on bars and stripes, from counting)."""


# --------------------------------------------------------------------------- data


SCHEMES = {"frey": "real", "bars-stripes": "threshold"}
"""How each dataset's training rows are presented (engine.data.SCHEMES, or ``real`` for Gaussian visible units); others: ``dynamic``."""


def visible_kind(name: str) -> str:
    """The visible units an RBM of dataset ``name`` has: ``gaussian`` for Frey faces' gray values, else ``bernoulli``."""
    return "gaussian" if name == "frey" else "bernoulli"


def scheme_of(name: str) -> str:
    return SCHEMES.get(name, "dynamic")


@functools.lru_cache(maxsize=8)
def load_rbm_data(name: str, root: str | None = None, download: bool = True) -> datasets.Split:
    """A dataset as an RBM sees it: engine.data's train / held-out split (MNIST: test images 0-8999 / 9000-9999),
    standardised for the Gaussian visible units of Frey faces (the images are ``split.to_image(v)``)."""
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {name!r}")
    split = datasets.train_heldout(name, root, download)
    return split.standardised() if visible_kind(name) == "gaussian" else split


def presented(data: datasets.Split) -> datasets.Binarized:
    """The training rows under the dataset's scheme (real values pass through as ``gray``)."""
    scheme = scheme_of(data.name)
    return datasets.Binarized(data.train, "gray" if scheme == "real" else scheme)


def heldout_for_likelihood(rbm: RBM, data: datasets.Split, seed: int = 0) -> tuple[torch.Tensor, str]:
    """Held-out rows as the likelihood sees them, and the name of the scheme that made them."""
    if rbm.gaussian:
        return data.heldout, "real-valued intensities in [0, 1] (density in those units)"
    if scheme_of(data.name) == "threshold":
        return data.heldout, "binary patterns (no binarisation needed)"
    g = torch.Generator().manual_seed(seed)
    return torch.bernoulli(data.heldout, generator=g), f"fixed (one Bernoulli sample of the gray levels, seed {seed})"


def intensity_log_jacobian(rbm: RBM, data: datasets.Split) -> float:
    """What to add to log p(v) of a Gaussian RBM (standardised v) to get the density of the intensities
    x = v * scale + offset: -n_visible log(scale). Zero for binary units."""
    return -rbm.n_visible * math.log(data.scale) if rbm.gaussian else 0.0


def heldout_log_likelihood(rbm: RBM, data: datasets.Split, log_z: float, log_z_low: float, log_z_high: float, seed: int = 0) -> LogLikelihood:
    """Mean log P(v) = -F(v) - log Z over the held-out rows (:func:`heldout_for_likelihood`), in the data's
    own units (:func:`intensity_log_jacobian`), with the interval carried over from log Z."""
    held, scheme = heldout_for_likelihood(rbm, data, seed)
    ll = average_log_likelihood(rbm, held, log_z, log_z_low, log_z_high, scheme)
    shift = intensity_log_jacobian(rbm, data)
    return replace(ll, mean=ll.mean + shift, low=ll.low + shift, high=ll.high + shift)


# --------------------------------------------------------------------------- pretrained models


@functools.lru_cache(maxsize=4)
def _pretrained_cached(name: str) -> tuple[RBM, dict]:
    return RBM.load(PRETRAINED[name])


def load_pretrained(name: str) -> tuple[RBM, dict[str, Any]]:
    """A copy of a pretrained RBM from assets/rbm (``mnist`` or ``frey``) and its checkpoint's extra record
    (dataset, split, scheme, offset, scale, title, training)."""
    if name not in PRETRAINED:
        raise ValueError(f"pretrained RBMs: {', '.join(PRETRAINED)}; got {name!r}")
    rbm, extra = _pretrained_cached(name)
    return rbm.copy(), dict(extra)


def data_view_of(rbm: RBM, extra: Mapping[str, Any]) -> datasets.Split:
    """A Split with no rows that draws a pretrained model's visible vectors as images, from its checkpoint's record."""
    empty = torch.zeros(0, rbm.n_visible)
    return datasets.Split(extra["dataset"], empty, empty, rbm.config.image_shape, "", "", offset=float(extra["offset"]), scale=float(extra["scale"]))


# --------------------------------------------------------------------------- training


TRAIN_PARAMS = Params(
    Param("dataset", "mnist", str, choices=DATASETS, when=RESET, label="Dataset",
          labels={"mnist": "MNIST", "frey": "Frey faces", "digits": "digits 8x8", "bars-stripes": "bars and stripes 4x4"}),
    Param("start", "pretrained", str, choices=("pretrained", "scratch"), when=RESET, label="Start from",
          help="Pretrained checkpoints exist for MNIST (784-500, PCD) and Frey faces (Gaussian-Bernoulli); the others start from scratch."),
    Param("hidden", 500, int, 1, 4096, ticks=(16, 25, 64, 100, 200, 500, 1000), when=RESET, label="Hidden units", symbol="n_h",
          help="Used when training from scratch.", per_dataset={"frey": 200, "digits": 100, "bars-stripes": 16}),
    Param("seed", 0, int, 0, 9999, when=RESET, label="Seed", help="Initial weights, batch order and Gibbs samples."),
    Param("method", "pcd", str, choices=METHODS, label="Negative phase", labels={"cd": "CD-k", "pcd": "PCD"},
          help="CD-k restarts the chain at the data each update; PCD (SML) keeps it running between updates (section 18.2)."),
    Param("k", 1, int, 1, 25, step=1, label="Gibbs steps", symbol="k", help="Block Gibbs sweeps per update."),
    Param("lr", 0.01, float, 1e-4, 3.0, ticks=(1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0, 3.0), label="Learning rate", symbol="ε",
          per_dataset={"frey": 0.003, "digits": 0.05, "bars-stripes": 0.05}),
    Param("momentum", 0.5, float, 0.0, 0.95, step=0.05, label="Momentum", symbol="α"),
    Param("batch_size", 100, int, 1, 10000, ticks=(10, 20, 50, 100, 200, 500), label="Batch size", unit="examples"),
    Param("weight_decay", 1e-4, float, 0.0, 0.1, ticks=(0.0, 1e-5, 1e-4, 1e-3, 1e-2), label="Weight decay", symbol="λ", help="L2 penalty on W."),
    Param("centering", False, bool, label="Centering", help="Montavon & Müller (2012): the gradient of the model rewritten around the data means."),
    Param("init_std", 0.01, float, 1e-4, 1.0, ticks=(1e-3, 3e-3, 0.01, 0.03, 0.1), when=RESET, label="Initial weight scale", symbol="σ_W", help="From scratch, W starts as N(0, σ_W²) (Hinton's guide, section 8)."),
    Param("learn_precision", False, bool, when=RESET, label="Learn β_v",
          help="Frey faces (Gaussian visible units), from scratch: learn the diagonal precisions β_v instead of keeping them at 1."),
)
"""The RBM training task's parameters: the page's widgets and ``genlab train rbm``'s options."""

_DIGITS_FROM_SCRATCH = {"dataset": "digits", "start": "scratch", "hidden": 100, "k": 1, "lr": 0.05, "momentum": 0.5, "batch_size": 100, "seed": 0}
PRESETS: dict[str, dict[str, Any]] = {
    "CD-1 samples": {**_DIGITS_FROM_SCRATCH, "method": "cd"},
    "PCD samples": {**_DIGITS_FROM_SCRATCH, "method": "pcd"},
    "Learning rate too large": {**_DIGITS_FROM_SCRATCH, "method": "cd", "lr": 3.0, "momentum": 0.9, "batch_size": 10},
}
"""The RBM page's lessons, on the 8x8 digits (always offline) from seed 0. CD-1's negative samples are one Gibbs step from
the training images, PCD's come from chains that keep running. At ε = 3 with momentum 0.9 the first update already
doubles the reconstruction error (9.2 -> 19.1 at seed 0, 20.8 at seed 1): the run pauses, naming the learning rate."""


COMPARISONS = (
    Comparison("CD-1 against PCD", {"method": "cd"}, {"method": "pcd"},
               why="CD restarts its Gibbs chains at the data every update; PCD keeps them running, so its negative samples wander further from the data (section 18.2)."),
    Comparison("k = 1 against k = 10 Gibbs steps", {"k": 1}, {"k": 10},
               why="More Gibbs steps per update bring the negative samples closer to the model's distribution, at ten times the cost."),
    Comparison("without and with centering", {"centering": False}, {"centering": True},
               why="Centering (Montavon & Müller) subtracts the units' mean activities inside the energy; the gradient is better conditioned."),
)  # fmt: skip
"""The RBM page's pairs (lab.compare): both sides train from the page's other settings and seed."""

def train_config(params: Mapping[str, Any]) -> TrainConfig:
    return TrainConfig(
        method=params["method"], k=int(params["k"]), lr=float(params["lr"]), momentum=float(params["momentum"]),
        weight_decay=float(params["weight_decay"]), centering=bool(params["centering"]),
    )  # fmt: skip


class RBMTrainTask:
    """Train an RBM one mini-batch per step, with the monitors of Hinton's guide every few steps.

    ``start="pretrained"`` begins from the checkpoint in assets/rbm for MNIST and Frey (the
    page opens on it); ``scratch`` from small random weights and data-based visible biases.
    """

    divergence_hint = "lower the learning rate or the momentum"

    def __init__(self, root: str | None = None):
        self.root = root

    PARAMS = TRAIN_PARAMS

    def reset(self, params: Mapping[str, Any]) -> None:
        self.generator = torch.Generator().manual_seed(int(params["seed"]))
        name = params["dataset"]
        self.data = load_rbm_data(name, self.root)
        self.presented = presented(self.data)
        nv = self.data.train.shape[1]
        if params["start"] == "pretrained" and name in PRETRAINED:
            self.rbm, extra = load_pretrained(name)
            self.source = f"pretrained {extra['title']}"
        else:
            visible = visible_kind(name)
            learn = visible == "gaussian" and bool(params.get("learn_precision", False))
            self.rbm = RBM(nv, int(params["hidden"]), visible, learn_precision=learn, image_shape=self.data.image_shape)
            self.rbm.init_random(self.generator, float(params["init_std"])).init_visible_from_data(self.data.train, unit_precision=True)
            self.source = f"random start, {int(params['hidden'])} hidden units"
        self.trainer = RBMTrainer(self.rbm, self.generator, data_mean=self.data.train.mean(0))
        self.sampler = datasets.EpochSampler(len(self.data.train), self.generator)
        g = torch.Generator().manual_seed(1234)
        n = min(100, len(self.data.heldout))
        self.monitor_train = self.presented.batch(torch.randperm(len(self.data.train), generator=g)[:n], g)
        self.monitor_heldout = self.data.heldout[:n] if self.rbm.gaussian else torch.bernoulli(self.data.heldout[:n], generator=g)
        self.trainer.reset_chains(self.monitor_train[: int(params["batch_size"])].repeat(math.ceil(int(params["batch_size"]) / n), 1)[: int(params["batch_size"])])
        with torch.no_grad():
            self.start_recon = self.best_recon = reconstruction_error(self.rbm, self.monitor_train)
        self.last_batch = self.monitor_train
        self.steps = 0

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        batch = self.presented.batch(self.sampler.next(int(params["batch_size"])), self.generator)
        self.trainer.step(batch, train_config(params))
        self.last_batch = batch
        self.steps += 1
        metrics = {"epoch": self.sampler.epochs_done, "update_ratio": update_ratio(self.trainer.update, self.rbm.W)}
        if self.steps % MONITOR_EVERY == 1 or MONITOR_EVERY == 1:
            metrics.update(self.monitors())
        return metrics

    def wrecked(self, metrics: Mapping[str, float]) -> str | None:
        """Finite but ruined: the reconstruction error has grown past 1.5 times its best plus a quarter of its starting
        value (:data:`WRECKED_RECONSTRUCTION`; a learning rate or momentum far too large)."""
        recon = metrics.get("recon_error")
        if recon is None:
            return None
        times_best, start_slack = WRECKED_RECONSTRUCTION
        if recon > times_best * self.best_recon + start_slack * self.start_recon:
            return f"the reconstruction error ({recon:.1f}) is {recon / self.best_recon:.1f} times its best ({self.best_recon:.1f})"
        self.best_recon = min(self.best_recon, recon)
        return None

    def monitors(self) -> dict[str, float]:
        """Reconstruction error, pseudo-likelihood (binary units), free-energy gap, hidden activity."""
        with torch.no_grad():
            out = {
                "recon_error": reconstruction_error(self.rbm, self.monitor_train),
                "fe_gap": free_energy_gap(self.rbm, self.monitor_train, self.monitor_heldout),
            }
            if not self.rbm.gaussian:
                out["pseudo_ll"] = pseudo_log_likelihood(self.rbm, self.monitor_train, n_units=min(50, self.rbm.n_visible), generator=self.generator)
            stats = hidden_stats(self.rbm, self.monitor_train)
            out["hidden_mean"] = stats.mean_activation
            out["hidden_dead"] = stats.dead_fraction
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        rbm = self.rbm
        chains = self.trainer.chains if self.trainer.chains is not None else self.last_batch
        with torch.no_grad():
            hidden = rbm.prob_h_given_v(self.last_batch[:64])
        return {
            "filters": rbm.W.T.reshape(-1, *self.data.image_shape).numpy().copy(),
            "hidden_probs": hidden.numpy(),
            "chains": self.data.to_image(chains[:64]),
            "data": self.data.to_image(self.last_batch[:64]),
            "b": rbm.b.numpy().copy(),
            "c": rbm.c.numpy().copy(),
            "log_precision": rbm.log_precision.numpy().copy(),
            "weights": rbm.W.numpy().ravel()[:: max(1, rbm.W.numel() // 20000)].copy(),
            "updates": self.trainer.update.numpy().ravel()[:: max(1, rbm.W.numel() // 20000)].copy(),
        }

    def model_from(self, arrays: Mapping[str, np.ndarray]) -> RBM:
        """The RBM as it was in a snapshot's arrays (a copy: evaluate it while training goes on)."""
        return rbm_from_arrays(arrays, self.rbm)

    def nonfinite(self) -> str | None:
        return next((name for name, t in self.rbm.parameters().items() if not torch.isfinite(t).all()), None)

    def shared_data(self) -> tuple:
        """What training only reads (engine.timeline): the data and the monitors' fixed rows."""
        return (self.data, self.presented, self.monitor_train, self.monitor_heldout)

    def state(self) -> dict[str, Any]:
        return {
            "params": {k: t.clone() for k, t in self.rbm.parameters().items()},
            "velocity": {k: t.clone() for k, t in self.trainer.velocity.items()},
            "chains": None if self.trainer.chains is None else self.trainer.chains.clone(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.rbm.load_state(state["params"])
        for k, t in state["velocity"].items():
            self.trainer.velocity[k].copy_(t)
        if state["chains"] is not None:
            self.trainer.reset_chains(state["chains"])

    def save(self, path: str | Path, params: Mapping[str, Any]) -> None:
        """Write the current model as a checkpoint with its data transform and every declared parameter it was trained with."""
        save_checkpoint(self.rbm, self.data, path, {k: v for k, v in self.PARAMS.complete(params).items() if k != "dataset"})


def rbm_from_arrays(arrays: Mapping[str, np.ndarray], like: RBM) -> RBM:
    """Rebuild an RBM shaped like ``like`` from the ``filters``, ``b``, ``c``, ``log_precision`` arrays of a snapshot."""
    rbm = RBM(like.n_visible, like.n_hidden, like.config.visible, learn_precision=like.config.learn_precision, image_shape=like.config.image_shape)
    rbm.W.copy_(torch.tensor(np.asarray(arrays["filters"]).reshape(like.n_hidden, like.n_visible).T))
    rbm.b.copy_(torch.tensor(np.asarray(arrays["b"])))
    rbm.c.copy_(torch.tensor(np.asarray(arrays["c"])))
    rbm.log_precision.copy_(torch.tensor(np.asarray(arrays["log_precision"])))
    return rbm


def save_checkpoint(rbm: RBM, data: datasets.Split, path: str | Path, training: Mapping[str, Any], title: str | None = None) -> None:
    """An RBM checkpoint whose extra record holds its dataset, images, scheme, image transform and training settings."""
    rbm.save(path, {
        "dataset": data.name, "images": data.source, "scheme": scheme_of(data.name), "offset": data.offset, "scale": data.scale, "training": dict(training),
        "title": title or f"{data.name} {rbm.n_visible}-{rbm.n_hidden} {training.get('method', '').upper()}",
    })  # fmt: skip


# --------------------------------------------------------------------------- Gibbs chains


GIBBS_MODELS = ("mnist", "frey", "bars-stripes", "given")
"""``given``: the RBM handed to GibbsTask (e.g. the one being trained on the RBM page)."""
INITS = ("noise", "data", "image")
CLAMPS = ("none", "top", "bottom", "left", "right")
"""Nothing clamped, or the half of the image held fixed (the region names of engine.models.clamp)."""
GIBBS_PARAMS = Params(
    Param("model", "mnist", str, choices=GIBBS_MODELS, when=RESET, label="Model",
          labels={"mnist": "MNIST 784-500 (pretrained, PCD)", "frey": "Frey faces 560-200 (pretrained, Gaussian-Bernoulli)",
                  "bars-stripes": "bars and stripes 16-16 (exact distribution known)", "given": "the RBM from the RBM training page"}),
    Param("init", "noise", str, choices=INITS, when=RESET, label="Start chains from",
          labels={"noise": "noise", "data": "random training images", "image": "one chosen image"}),
    Param("image", 0, int, 0, 100000, when=RESET, label="Chosen image", help="Index of the training image every chain starts from."),
    Param("seed", 0, int, 0, 9999, when=RESET, label="Seed"),
    Param("chains", 16, int, 1, 400, ticks=(1, 4, 9, 16, 36, 64, 100, 400), when=RESET, label="Chains", per_dataset={"bars-stripes": 400}),
    Param("beta", 1.0, float, 0.1, 3.0, step=0.05, label="Inverse temperature", symbol="β",
          help="1 samples the model; below 1 a flatter (hotter) version, above 1 a peakier (colder) one."),
    Param("clamp", "none", str, choices=CLAMPS, label="Clamp pixels", labels={"none": "none", **{r: f"{r} half" for r in CLAMPS[1:]}}, help="Clamped pixels stay fixed; the chain samples the others given them."),
    keyed_by="model",
)
"""The Gibbs chain task's parameters (the Gibbs page's widgets)."""
_BARS_STRIPES_CHAINS = {"model": "bars-stripes", "init": "noise", "image": 0, "seed": 0, "chains": 400, "clamp": "none"}
PRESETS_GIBBS: dict[str, dict[str, Any]] = {
    "β = 1 converges to the exact P(v)": {**_BARS_STRIPES_CHAINS, "beta": 1.0},
    "A cold chain does not mix": {**_BARS_STRIPES_CHAINS, "beta": 3.0},
    "A hot chain mixes fast, to a flatter P(v)": {**_BARS_STRIPES_CHAINS, "beta": 0.5},
}
"""The Gibbs page's lessons: 400 chains of the bars-and-stripes RBM from noise, whose exact P(v) is known (section 17.5:
mixing between separated modes; 17.5.1: tempering). Measured from seeds 0-2: at β = 1 the total variation to the exact
P(v) falls from 0.19-0.21 after 50 steps to 0.07-0.10 after 500, still 2.6-3.4 times that of as many independent
draws (0.028): the chains are correlated. At β = 3 about 0.5% of the chains change state per step: they stay in the
modes they fell into, the TV to P(v) stays at 0.32-0.35 and the TV to their own P_β(v) ∝ Σₕ exp(−βE) at 0.55-0.59
after 500 steps, where independent draws would be at 0.004. At β = 0.5, 98% of them change state every step and
their histogram is as close to P_β(v) as independent draws (TV 0.153-0.155 against 0.151-0.154 after 500 steps), but
P_β is flatter than the model: the TV to P(v) stays at 0.76, TV(P_β, P) itself."""
TRACE = 400
"""Free-energy trace length kept per chain."""
ACF_MIN_STEPS = 20
"""Steps of trace before the autocorrelation of F(v) is computed (over the second half of the trace)."""


def clamp_mask(shape: tuple[int, int], region: str) -> torch.Tensor | None:
    """The visible units (flattened image) held fixed for ``region`` (``none``, or a half named as in
    engine.models.clamp), or None when nothing is clamped."""
    return None if region == "none" else torch.from_numpy(region_mask(region, *shape).ravel())


@functools.lru_cache(maxsize=2)
def bars_stripes_rbm(n_hidden: int = 16, updates: int = 3000, seed: int = 0) -> RBM:
    """A 16-16 RBM fitted to 4x4 bars-and-stripes with CD-10 (a few seconds): enumerable, so its exact distribution is known.

    CD-10 spreads the probability over the 30 patterns (mean log-likelihood about -3.8 nats, the optimum
    being log 1/30 = -3.4); PCD-1 at this learning rate piles a third of it on a single pattern."""
    data = load_rbm_data("bars-stripes").train
    g = torch.Generator().manual_seed(seed)
    rbm = RBM(16, n_hidden, image_shape=(4, 4)).init_random(g).init_visible_from_data(data)
    trainer = RBMTrainer(rbm, g)
    config = TrainConfig(method="cd", k=10, lr=0.05, momentum=0.5, weight_decay=0.0)
    for _ in range(updates):
        trainer.step(data[torch.randint(len(data), (30,), generator=g)], config)
    return rbm


class GibbsTask:
    """Many block Gibbs chains (section 20.2) of one RBM; one step is one v -> h -> v sweep of every chain.

    Models: the pretrained MNIST and Frey RBMs, a bars-and-stripes RBM small enough to enumerate, or
    any RBM given to the constructor (``model="given"``); for the enumerable ones
    the empirical distribution of the chain states is compared with the exact P(v)
    (total-variation distance over time). ``beta`` and ``clamp`` act live; the rest on Reset.
    """

    def __init__(self, root: str | None = None, rbm: RBM | None = None, view: datasets.Split | None = None):
        self.root = root
        self.custom = (rbm, view) if rbm is not None else None

    PARAMS = GIBBS_PARAMS

    def shared_data(self) -> tuple:
        """What sampling only reads (engine.timeline): the RBM, its data view and its exact distribution (small models)."""
        return (self.rbm, self.view, self.exact, self.codes)

    def reset(self, params: Mapping[str, Any]) -> None:
        self.generator = torch.Generator().manual_seed(int(params["seed"]))
        name = params["model"]
        if name == "given":
            if self.custom is None:
                raise ValueError("model 'given' needs an RBM passed to GibbsTask(rbm=..., view=...)")
            self.rbm, self.view = self.custom
        elif name == "bars-stripes":
            self.rbm, self.view = bars_stripes_rbm(), load_rbm_data("bars-stripes")
        else:
            self.rbm, extra = load_pretrained(name)
            self.view = data_view_of(self.rbm, extra)
        self.exact = exact_visible_distribution(self.rbm).numpy() if (not self.rbm.gaussian and self.rbm.n_visible <= 16) else None
        self.counts = np.zeros_like(self.exact) if self.exact is not None else None
        self.codes = 2 ** torch.arange(self.rbm.n_visible - 1, -1, -1, dtype=torch.float64) if self.exact is not None else None
        n = int(params["chains"])
        self.v = self._initial(params, n)
        self.start_image = self.v[0].clone()
        self.h = self.rbm.prob_h_given_v(self.v)
        self.fe_trace = np.full((n, TRACE), np.nan)
        with torch.no_grad():
            self.fe_trace[:, -1] = self.rbm.free_energy(self.v).numpy()  # the starting states' F(v), step 0
        self.t = 0

    def _examples(self) -> torch.Tensor | None:
        """Real examples to start chains from, when the model's data is on disk."""
        name = self.view.name
        if len(self.view.train):
            return self.view.train
        try:
            return load_rbm_data(name, self.root, download=False).train
        except (datasets.DataError, ValueError):
            return None

    def _initial(self, params: Mapping[str, Any], n: int) -> torch.Tensor:
        rbm, g = self.rbm, self.generator
        shape = (n, rbm.n_visible)
        if params["init"] == "noise":
            if rbm.gaussian:
                return rbm.b + torch.randn(shape, generator=g) * rbm.precision.rsqrt()
            return torch.bernoulli(torch.full(shape, 0.5), generator=g)
        examples = self._examples()
        if examples is None:
            raise ValueError(f"the {self.view.name} data is not on this machine: start the chains from noise")
        if params["init"] == "data":
            rows = examples[torch.randint(len(examples), (n,), generator=g)]
        else:
            rows = examples[int(params["image"]) % len(examples)].expand(n, -1)
        return rows if rbm.gaussian else torch.bernoulli(rows, generator=g)

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        clamp = clamp_mask(self.view.image_shape, params["clamp"])
        with torch.no_grad():
            self.v, _, self.h = gibbs_step(self.rbm, self.v, float(params["beta"]), self.generator, clamp)
            fe = self.rbm.free_energy(self.v).numpy()
        self.fe_trace = np.roll(self.fe_trace, -1, axis=1)
        self.fe_trace[:, -1] = fe
        self.t += 1
        metrics = {"free_energy": float(fe.mean())}
        if self.exact is not None:
            codes = (self.v.double() @ self.codes).long().numpy()
            self.counts += np.bincount(codes, minlength=len(self.counts))
            metrics["tv"] = total_variation(self.counts / self.counts.sum(), self.exact)
        return metrics

    def arrays(self) -> dict[str, np.ndarray]:
        with torch.no_grad():
            means = self.rbm.mean_v_given_h(self.h)
        out = {
            "visible": self.view.to_image(self.v),
            "visible_mean": self.view.to_image(means),
            "hidden": self.h.numpy().copy(),
            "fe_trace": self.fe_trace.copy(),
            "mean_free_energy": np.array(self.fe_trace[:, -1].mean()),
        }
        filled = self.fe_trace[:, ~np.isnan(self.fe_trace[0])]
        if filled.shape[1] > ACF_MIN_STEPS:
            recent = filled[:, filled.shape[1] // 2 :]  # the first half is dropped as burn-in
            out["fe_autocorrelation"] = autocorrelation(recent, min(100, recent.shape[1] // 2))
        if self.exact is not None:
            top = np.argsort(-self.exact)[:32]
            empirical = self.counts / max(self.counts.sum(), 1)
            out["states"] = ((top[:, None] >> np.arange(self.rbm.n_visible - 1, -1, -1)) & 1).reshape(-1, *self.view.image_shape).astype(np.float32)
            out["exact_top"] = self.exact[top]
            out["empirical_top"] = empirical[top]
        return out
