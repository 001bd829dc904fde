"""Run tasks of the DBM lab: mean-field inference iteration by iteration, greedy-then-joint training,
and DBM Gibbs chains beside DBN ancestral sampling (the Task protocol of ``engine.run``)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine import data as datalib
from engine.models.clamp import REGIONS, check_images, region_mask
from engine.models.dbm import DBM, MAX_UNITS, SCHEDULES, bernoulli_entropy
from engine.models.dbm_training import DBMTrainer, GreedyStack, InferenceNet, JointConfig, TrainedDBM, compose_dbm, load_trained
from engine.models.dbn import DBN
from engine.models.rbm_training import TrainConfig
from engine.pair import Comparison
from engine.params import ARRAY, RESET, Param, Params

ROOT = Path(__file__).resolve().parents[2]
PRETRAINED = ROOT / "assets" / "dbm" / "mnist"
DATASETS = ("mnist", "digits", "bars-stripes")


# --------------------------------------------------------------------------- data


def load_images(dataset: str, root: str | None = None) -> datalib.Split:
    """engine.data's train / held-out split of ``dataset`` from disk, never downloaded: MNIST's test split (the one
    available offline), images 0-8999 to train and 9000-9999 held out; the 8x8 digits' 1497 / 300; bars and stripes
    4x4: all 30 patterns."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    return datalib.train_heldout(dataset, root, download=False)


def mnist_available(root: str | None = None) -> bool:
    try:
        load_images("mnist", root)
        return True
    except datalib.DataError:
        return False


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


# --------------------------------------------------------------------------- mean-field inference, one iteration per step


CLAMPS = ("all", *REGIONS)
"""Which pixels are observed (clamped): ``all``, or a region named as in engine.models.clamp (the half that is kept, or all but a centred square)."""
INITS_SHOWN = ("uniform", "bottom_up", "zeros", "inference net")
MEANFIELD_PARAMS = Params(
    Param("index", 0, int, 0, None, when=RESET, label="Test image", help="Its index among the held-out test images."),
    Param("image", None, ARRAY, when=RESET, cli=False, label="Drawn image", help="An image of the visible layer's size (values in [0, 1]) used instead of the test image."),
    Param("clamp", "all", str, choices=CLAMPS, when=RESET, label="Observed pixels",
          labels={"all": "whole image", **{r: f"{r} half" for r in REGIONS if r != "square"}, "square": "all but a centred square"},
          help="Clamp part of the image: the free pixels (blue) get mean-field parameters too."),
    Param("init", "uniform", str, choices=INITS_SHOWN, when=RESET, label="Start Q from",
          labels={"uniform": "μ = 0.5", "bottom_up": "bottom-up pass (2W)", "zeros": "μ = 0", "inference net": "learned inference net"}),
    Param("binarize", True, bool, when=RESET, label="Binarize", help="On: v is one Bernoulli sample of the gray image (seeded); off: the gray intensities are used as v (not a likelihood of binary data)."),
    Param("coupling", 1.0, float, 0.25, 8.0, ticks=(0.25, 0.5, 1.0, 2.0, 4.0, 6.0, 8.0), when=RESET, label="Coupling: W² ×",
          labels={1.0: "1 (trained)"},
          help="Multiply W² to couple h¹ and h² strongly: the mean-field problem gets two modes, and parallel updates flip between them for ever (try 4 with the parallel schedule)."),
    Param("n_iter", 30, int, 1, 200, step=1, label="Iterations", help="The iteration where the animation stops."),
    Param("damping", 0.0, float, 0.0, 0.95, step=0.05, label="Damping", symbol="d", help="μ ← d μ + (1 − d) σ(·)."),
    Param("schedule", "sequential", str, choices=SCHEDULES, label="Schedule",
          labels={"sequential": "layer by layer (h¹ then h²)", "parallel": "parallel (all at once)"},
          help="Layer by layer never lowers the bound; all layers at once can oscillate."),
    Param("seed", 0, int, 0, 9999, when=RESET, label="Seed", help="The binarization draw of the image and the Gibbs comparison."),
)
"""The mean-field task's parameters (the mean-field page's widgets)."""
_STRONGLY_COUPLED = {"index": 0, "clamp": "all", "init": "uniform", "binarize": True, "coupling": 4.0, "n_iter": 30, "damping": 0.0, "seed": 0}
PRESETS_MEANFIELD: dict[str, dict[str, Any]] = {
    "Parallel updates oscillate": {**_STRONGLY_COUPLED, "schedule": "parallel"},
    "Sequential updates converge": {**_STRONGLY_COUPLED, "schedule": "sequential"},
}
"""The mean-field page's lessons (section 20.4.2), on test image 0 with W² × 4, which makes the mean-field problem bimodal.
Measured on the pretrained MNIST DBM (test images 0, 1, 2, 7): updating h¹ and h² at once, max |Δμ| stays at 1.00 from
iteration 10 to 100 (on image 0, 12-14% of the 1000 hidden units flip between 0 and 1 at every iteration) and the bound
falls at every other one; layer by layer, each half-step maximises the bound over its layer, which never falls, and
max |Δμ| is below 1e-7 by iteration 10. With the trained coupling (× 1) both schedules converge (parallel: max |Δμ|
under 1e-6 by iteration 30)."""


def observed_mask(clamp: str, image_shape: tuple[int, int]) -> torch.Tensor:
    """The flat mask of observed (clamped) pixels: every pixel for ``all``, else :func:`engine.models.clamp.region_mask`."""
    h, w = image_shape
    if clamp == "all":
        return torch.ones(h * w, dtype=torch.bool)
    return torch.from_numpy(region_mask(clamp, h, w).ravel())


class MeanFieldTask:
    """Mean field on one test image, one iteration (eqs. 20.33-20.34) per step, on a trained DBM.

    With part of the image clamped, the free pixels get mean-field parameters too (updated after
    the hidden layers, mu_v = sigmoid(b + W1 mu1)), and their entropy joins the bound.
    Its parameters are :data:`MEANFIELD_PARAMS`; ``image`` (e.g. a drawing) replaces test image
    ``index`` when given, and ``coupling`` multiplies W2 (1 = the trained DBM). A strong coupling between h1 and h2 makes
    the mean-field problem multimodal: parallel updates then flip between two modes for ever,
    while the sequential schedule still converges. The bound is computed in float64.
    Beside mean field it computes (at reset, see :meth:`_compare`) the DBN pass, the inference network
    and the true posterior marginals given the observed pixels by clamped Gibbs sampling.
    """

    gibbs_chains, gibbs_burn_in, gibbs_keep = 32, 30, 30
    """The size of the posterior Gibbs comparison: chains, sweeps discarded, sweeps averaged."""

    PARAMS = MEANFIELD_PARAMS

    def __init__(self, trained: TrainedDBM, images: torch.Tensor):
        self.trained, self.dbm = trained, trained.dbm
        self.images = images
        self.dbn = DBN.from_stack(trained.stack)

    def check_params(self, params: Mapping[str, Any]) -> None:
        """What depends on the loaded data: the test image index, a given image's size, an inference network to start from."""
        if not params["index"] < len(self.images):
            raise ValueError(f"index (the test image) must be between 0 and {len(self.images) - 1}, got {params['index']}")
        if params["image"] is not None:
            self._given_image(params["image"])
        if params["init"] == "inference net" and self.trained.net is None:
            raise ValueError("this checkpoint has no inference network; choose another init")

    def _given_image(self, image: tuple) -> torch.Tensor:
        """An image given as a flat tuple of the visible layer's size (values in [0, 1]) as a (1, D) row."""
        h, w = self.trained.dbm.config.image_shape or (1, self.trained.dbm.sizes[0])
        return check_images(image, h, w).to(self.images.dtype)

    def shared_data(self) -> tuple:
        """What inference only reads (engine.timeline): the trained DBM (and its copy at another coupling), the DBN and the images."""
        return (self.trained, self.dbm, self.dbn, self.images)

    def reset(self, p: Mapping[str, Any]) -> None:
        self.dbm = self.trained.dbm.copy() if float(p["coupling"]) != 1.0 else self.trained.dbm
        if float(p["coupling"]) != 1.0:
            self.dbm.W[1].mul_(float(p["coupling"]))
        self.dbm64 = self.dbm.to(dtype=torch.float64)
        gray = self._given_image(p["image"]) if p["image"] is not None else self.images[int(p["index"])][None, :]
        self.v_true = torch.bernoulli(gray, generator=_generator(p["seed"])) if p["binarize"] else gray
        shape = self.dbm.config.image_shape or (1, self.dbm.sizes[0])
        self.observed = observed_mask(p["clamp"], shape)
        self.v = torch.where(self.observed, self.v_true, torch.full_like(self.v_true, 0.5))
        if p["init"] == "inference net":
            self.mu = self.trained.net(self.v)
        else:
            self.mu = self.dbm.initial_mu(self.v, p["init"])
        self.iteration = 0
        self.initial_bound = self.bound()
        self._compare(p)

    def _compare(self, p: Mapping[str, Any]) -> None:
        """The guesses the page shows beside mean field.

        - The DBN's bottom-up pass and the inference network are one pass over a whole image: they
          cannot take a partial one, so with part of the image clamped they read ``self.v`` at reset,
          which holds 0.5 in the free pixels. Their bounds (``compare_bounds``) are the bound of the
          factorial Q made of that guess for h and Q(free pixel = 1) = 0.5, i.e. the free pixels'
          entropy n_free log 2 is included: the same quantity as :meth:`bound`, so the lines compare.
        - Gibbs: marginals of the true posterior P(v_free, h | v_observed), by two-block Gibbs with
          only the observed pixels clamped (:meth:`DBM.posterior_gibbs`); the free pixels are
          sampled with h2, never held at 0.5. ``gibbs_v`` is the posterior mean of the image.
        """
        dbm, v = self.dbm, self.v
        self.dbn_mu = self.dbn.infer(v)
        self.net_mu = self.trained.net(v) if self.trained.net is not None else None
        g = _generator(p["seed"] + 1)
        means, last = dbm.posterior_gibbs(self.v_true, self.observed, self.gibbs_chains, self.gibbs_burn_in, self.gibbs_keep, generator=g)
        self.gibbs_v, self.gibbs_mu = means[0], means[1:]
        self.gibbs_sample = last[1:]
        free = ~self.observed
        free_entropy = float(free.sum()) * math.log(2.0)
        bound = lambda mu: float(self.dbm64.variational_bound(v.double(), [m.double() for m in mu])[0]) + free_entropy  # noqa: E731
        self.compare_bounds = {"dbn": bound(self.dbn_mu), "net": bound(self.net_mu) if self.net_mu is not None else float("nan")}

    def bound(self) -> float:
        """L(v, Q) + log Z (eq. 20.31 with biases). With part of the image clamped, Q covers the free
        pixels too (their mu_v sit in ``self.v``) and their entropy is added: a lower bound on
        log P*(observed pixels) = log sum_{free pixels, h} exp(-E)."""
        free = ~self.observed
        v, mu = self.v.double(), [m.double() for m in self.mu]
        extra = bernoulli_entropy(v[:, free]) if free.any() else torch.zeros(1, dtype=torch.float64)
        return float(self.dbm64.variational_bound(v, mu)[0] + extra[0])

    def step(self, p: Mapping[str, Any]) -> Mapping[str, float]:
        if self.iteration >= int(p["n_iter"]):
            return {}
        new = self.dbm.mean_field_step(self.v, self.mu, float(p["damping"]), p["schedule"])
        change = max(float((a - b).abs().max()) for a, b in zip(new, self.mu))
        self.mu = new
        free = ~self.observed
        if free.any():
            target = torch.sigmoid(self.dbm.layer_input(0, [self.v, self.mu[0]]))
            d = float(p["damping"])
            v_new = torch.where(free, d * self.v + (1 - d) * target, self.v)
            change = max(change, float((v_new - self.v).abs().max()))
            self.v = v_new
        self.iteration += 1
        return {"bound": self.bound(), "change": max(change, 1e-300)}

    def arrays(self) -> Mapping[str, np.ndarray]:
        out = {
            "v": self.v[0].numpy(), "v_true": self.v_true[0].numpy(), "observed": self.observed.numpy(), "gibbs_v": self.gibbs_v[0].numpy(),
            "iteration": np.array(self.iteration),
            "initial_bound": np.array(self.initial_bound),
            "compare_bounds": np.array([self.compare_bounds["dbn"], self.compare_bounds["net"]]),
        }  # fmt: skip
        for l, m in enumerate(self.mu, start=1):
            out[f"mu{l}"] = m[0].numpy()
            out[f"dbn_mu{l}"] = self.dbn_mu[l - 1][0].numpy()
            out[f"gibbs_mu{l}"] = self.gibbs_mu[l - 1][0].numpy()
            out[f"gibbs_h{l}"] = self.gibbs_sample[l - 1][:8].numpy()
            if self.net_mu is not None:
                out[f"net_mu{l}"] = self.net_mu[l - 1][0].numpy()
        out["reconstruction"] = torch.sigmoid(self.dbm.layer_input(0, [self.v, self.mu[0]]))[0].numpy()
        return out


# --------------------------------------------------------------------------- training: greedy layer-wise, then joint PCD


BINARIZATIONS = ("dynamic", "fixed", "threshold")
TRAINING_PARAMS = Params(
    Param("dataset", "digits", str, choices=DATASETS, when=RESET, label="Dataset",
          labels={"digits": "8×8 digits (scikit-learn)", "bars-stripes": "bars and stripes 4×4", "mnist": "MNIST (test split, 9000 images)"}),
    Param("n1", 100, int, 1, MAX_UNITS, when=RESET, label="h¹ units"),
    Param("n2", 100, int, 1, MAX_UNITS, when=RESET, label="h² units"),
    Param("n3", 0, int, 0, MAX_UNITS, when=RESET, label="h³ units",
          help="A third hidden layer (0 = none): its RBM gets the doubled top, the middle RBM's weights are halved."),
    Param("greedy_updates", 300, int, 0, 100000, when=RESET, label="Greedy updates",
          help="RBM updates of greedy pretraining for each hidden layer before joint training (0: joint training from the start)."),
    Param("seed", 0, int, 0, 9999, when=RESET, label="Seed", help="Initial weights, batch order, binarization and Gibbs samples."),
    Param("rbm_lr", 0.05, float, 1e-6, 1.0, ticks=(1e-3, 3e-3, 0.01, 0.03, 0.05, 0.1, 0.3), label="RBM learning rate",
          help="Learning rate of greedy pretraining."),
    Param("lr", 0.005, float, 0.0, 1.0, low_open=True, ticks=(1e-4, 3e-4, 1e-3, 3e-3, 0.005, 0.01, 0.03, 0.1), label="Joint learning rate", symbol="ε",
          help="Learning rate of joint training (algorithm 20.1)."),
    Param("momentum", 0.5, float, 0.0, 0.95, step=0.05, label="Momentum", symbol="α"),
    Param("mf_iterations", 10, int, 1, 50, step=1, label="Mean-field iterations", help="Iterations of eqs. 20.33-20.34 in the positive phase of each joint update."),
    Param("gibbs_steps", 1, int, 1, 10, step=1, label="Gibbs sweeps per update", help="Two-block Gibbs sweeps of the persistent chains per joint update."),
    Param("centering", False, bool, label="Centering", help="Montavon & Müller (2012): gradients of the model rewritten around the layers' mean activities."),
    Param("batch_size", 100, int, 1, 1000, ticks=(10, 20, 50, 100, 200, 500, 1000), label="Batch size", unit="examples"),
    Param("n_chains", 100, int, 2, 1000, ticks=(10, 20, 50, 100, 200, 500, 1000), when=RESET, label="Persistent chains",
          help="Two-block Gibbs chains of joint training's negative phase, kept running between updates."),
    Param("weight_decay", 1e-4, float, 0.0, 0.1, ticks=(0.0, 1e-5, 1e-4, 1e-3, 1e-2), label="Weight decay", symbol="λ", help="L2 penalty on the weights."),
    Param("binarization", "dynamic", str, choices=BINARIZATIONS, when=RESET, label="Binarization",
          help="dynamic: a fresh Bernoulli sample of the gray levels per batch; fixed: one sample, seeded; threshold: at 0.5."),
    Param("inference_net", True, bool, when=RESET, label="Inference network",
          help="Train a feed-forward network to predict mean field in one pass (Salakhutdinov & Larochelle 2010) alongside joint training."),
)
"""The DBM training task's parameters: the training page's widgets and ``genlab train dbm``'s options."""


TRAINING_COMPARISONS = (
    Comparison("without and with centering", {"centering": False}, {"centering": True},
               why="Joint DBM training is fragile; centering the units (Montavon & Müller 2012) keeps it stable (section 20.4.5)."),
    Comparison("1 against 10 mean-field iterations", {"mf_iterations": 1}, {"mf_iterations": 10},
               why="The positive phase uses the mean-field posterior Q(h | v); one iteration leaves it far from its fixed point."),
)  # fmt: skip
"""The DBM training page's pairs (lab.compare)."""

FILTERS_SHOWN = (64, 32)
"""How many units' filters the training page shows: 64 of layer 1, 32 of every deeper layer."""


def pixel_space_filters(weights: Sequence[torch.Tensor], shown: Sequence[int] = FILTERS_SHOWN) -> dict[str, np.ndarray]:
    """Every layer's units seen in pixel space: ``filters{l}`` holds columns of W¹W²...Wˡ, one row per unit.

    Unit j of layer l reaches the pixels through the product of the weight matrices below it (the
    linear part of a top-down pass, as the DBN and DBM chapters picture deeper features, 20.3-20.4);
    the sigmoids in between are left out, so this is a picture, not a generative pass. Layer 1 shows
    its first ``shown[0]`` units, every deeper layer the first ``shown[-1]``.
    """
    out: dict[str, np.ndarray] = {}
    product: torch.Tensor | None = None
    for l, W in enumerate(weights, start=1):
        product = W if product is None else product @ W
        n = shown[min(l, len(shown)) - 1]
        out[f"filters{l}"] = product.T[:n].numpy().copy()
    return out


class DBMTrainingTask:
    """Greedy pretraining (``greedy_updates`` RBM updates per layer, section 20.4.5) then joint
    training by algorithm 20.1, one mini-batch per step. Changing sizes or the dataset needs a Reset;
    learning rates, momentum, mean-field iterations, Gibbs sweeps and centering apply live."""

    PARAMS = TRAINING_PARAMS

    def __init__(self, root: str | None = None, data: datalib.Split | None = None):
        self.root = root
        self._data_cache: dict[str, datalib.Split] = {} if data is None else {"given": data}

    @staticmethod
    def sizes(p: Mapping[str, Any], n_visible: int) -> tuple[int, ...]:
        """(n_visible, n1, n2[, n3]): the third hidden layer only when n3 > 0."""
        return (n_visible, p["n1"], p["n2"], *([p["n3"]] if p["n3"] > 0 else []))

    @staticmethod
    def _joint_config(p: Mapping[str, Any]) -> JointConfig:
        return JointConfig(float(p["lr"]), float(p["momentum"]), float(p["weight_decay"]), int(p["mf_iterations"]), int(p["gibbs_steps"]), bool(p["centering"]))

    def _data(self, dataset: str) -> datalib.Split:
        if "given" in self._data_cache:
            return self._data_cache["given"]
        if dataset not in self._data_cache:
            self._data_cache[dataset] = load_images(dataset, self.root)
        return self._data_cache[dataset]

    def reset(self, p: Mapping[str, Any]) -> None:
        self.data = self._data(p["dataset"])
        self.binary = datalib.Binarized(self.data.train, p["binarization"], seed=int(p["seed"]))
        self.generator = _generator(p["seed"])
        self.sizes_ = self.sizes(p, self.data.train.shape[1])
        self.stack = GreedyStack(self.sizes_, self.generator, data_mean=self.data.train.mean(0))
        self.dbm: DBM | None = None
        self.trainer: DBMTrainer | None = None
        self.net: InferenceNet | None = None
        self.updates = 0
        self.greedy_updates = int(p["greedy_updates"])
        self.sampler = datalib.EpochSampler(len(self.binary), self.generator)
        self.last_layer_recon = [float("nan")] * (len(self.sizes_) - 1)
        if self.phase == "joint":
            self._start_joint(p)

    @property
    def phase(self) -> str:
        L = len(self.sizes_) - 1
        layer = self.updates // max(1, self.greedy_updates) + 1 if self.greedy_updates else L + 1
        return f"greedy RBM {layer}" if layer <= L else "joint"

    def _batch(self, size: int) -> torch.Tensor:
        return self.binary.batch(self.sampler.next(size), self.generator)

    def _start_joint(self, p: Mapping[str, Any]) -> None:
        self.dbm = compose_dbm(self.stack, self.data.image_shape)
        self.trainer = DBMTrainer(self.dbm, int(p["n_chains"]), self.generator, self.data.train.mean(0))
        self.net = InferenceNet(self.dbm) if p["inference_net"] else None

    def step(self, p: Mapping[str, Any]) -> Mapping[str, float]:
        bad = self.nonfinite()
        if bad is not None:  # sampling from NaN probabilities would raise: report it and let the Run roll back
            return {bad: float("nan")}
        v = self._batch(min(int(p["batch_size"]), len(self.binary)))
        phase = self.phase
        self.updates += 1
        if phase.startswith("greedy"):
            layer = int(phase.split()[-1])
            config = TrainConfig(method="pcd", lr=float(p["rbm_lr"]), momentum=float(p["momentum"]), weight_decay=float(p["weight_decay"]), centering=bool(p["centering"]))
            self.stack.step(layer, v, config)
            recon = self.stack.rbms[layer - 1].reconstruction_error(self.stack.features(v, layer))
            self.last_layer_recon[layer - 1] = recon
            if self.phase == "joint":
                self._start_joint(p)
            return {"phase": float(layer), f"rbm{layer}_reconstruction": recon}
        if self.trainer is None:
            self._start_joint(p)
        metrics = dict(self.trainer.step(v, self._joint_config(p)))
        if self.net is not None:
            metrics["inference_net_loss"] = self.net.step(v, self.trainer.last_mu)
        metrics["phase"] = float(len(self.sizes_))
        return metrics

    def parameter_tensors(self) -> dict[str, torch.Tensor]:
        """Every trained tensor by name: W1, b, c2 ... (and net.R1 ... for the inference network) in
        joint training, rbm1.W, rbm2.c ... during greedy pretraining."""
        if self.dbm is None:
            return {f"rbm{l}.{k}": t for l, r in enumerate(self.stack.rbms, 1) for k, t in r.rbm.parameters().items()}
        tensors = dict(self.dbm.parameters())
        if self.net is not None:
            tensors.update({f"net.{k}": t for k, t in self.net.parameters().items()})
        return tensors

    def nonfinite(self) -> str | None:
        """The name of the first parameter holding NaN or Inf (see :meth:`parameter_tensors`), else None."""
        return next((k for k, t in self.parameter_tensors().items() if not torch.isfinite(t).all()), None)

    divergence_hint = "lower the learning rate of the phase that diverged (rbm_lr in greedy pretraining, lr in joint training) or the momentum, or turn centering on"

    def shared_data(self) -> tuple:
        """What training only reads (engine.timeline): the loaded data sets and their binarized rows."""
        return (self._data_cache, self.binary)

    def state(self) -> dict:
        return {
            "rbms": [{k: t.clone() for k, t in r.rbm.parameters().items()} for r in self.stack.rbms],
            "trainer": self.trainer.state() if self.trainer is not None else None,
            "updates": self.updates,
        }

    def restore(self, state: dict) -> None:
        for r, saved in zip(self.stack.rbms, state["rbms"]):
            r.rbm.load_state(saved)
            for t in r.trainer.velocity.values():
                t.zero_()
        self.updates = state["updates"]
        if state["trainer"] is not None and self.trainer is not None:
            self.trainer.restore(state["trainer"])
        elif state["trainer"] is None:
            self.dbm = self.trainer = self.net = None

    def trained(self) -> TrainedDBM:
        """The current model as a :class:`TrainedDBM` (composing the stack if joint training has not begun)."""
        dbm = self.dbm if self.dbm is not None else compose_dbm(self.stack, self.data.image_shape)
        return TrainedDBM(dbm, self.stack, self.net, {})

    def arrays(self) -> Mapping[str, np.ndarray]:
        L = len(self.sizes_) - 1
        phase = self.phase
        out: dict[str, np.ndarray] = {"phase": np.array(phase), "updates": np.array(self.updates), "sizes": np.array(self.sizes_)}
        if phase.startswith("greedy"):
            layer = int(phase.split()[-1])
            out.update(pixel_space_filters([r.W for r in self.stack.rbms[:layer]]))
            rbm = self.stack.rbms[layer - 1]
            chains = rbm.trainer.chains
            if chains is not None:
                x = chains[:, : rbm.n_in]
                out["chain_input"] = x[:32].numpy().copy()
                if layer == 1:
                    out["chain_v"] = x[:32].numpy().copy()
        else:
            dbm, chains = self.dbm, self.trainer.chains
            out.update(pixel_space_filters(dbm.W))
            out["chain_v"] = torch.sigmoid(dbm.layer_input(0, chains))[:32].numpy()
            for l in range(1, L + 1):
                out[f"chain_h{l}"] = chains[l][:32].numpy().copy()
            out["offsets_v"] = self.trainer.offsets[0].numpy().copy()
        return out


# --------------------------------------------------------------------------- sampling: DBM Gibbs beside DBN ancestral


SAMPLING_PARAMS = Params(
    Param("n_chains", 16, int, 1, 64, ticks=(1, 4, 8, 16, 32, 64), when=RESET, label="Chains", help="Chains of each sampler, shown side by side."),
    Param("seed", 0, int, 0, 9999, when=RESET, label="Seed", help="Both samplers start from random states drawn with this seed."),
)
"""The sampling task's parameters (the sampling page's widgets)."""


class SamplingTask:
    """One step = one two-block Gibbs sweep of the DBM (all layers) and one Gibbs step in the DBN's
    top RBM followed by a fresh down pass; both start from random states drawn from the same seed."""

    PARAMS = SAMPLING_PARAMS

    def __init__(self, trained: TrainedDBM):
        self.dbm = trained.dbm
        self.dbn = DBN.from_stack(trained.stack)

    def shared_data(self) -> tuple:
        """What sampling only reads (engine.timeline): the DBM and the DBN."""
        return (self.dbm, self.dbn)

    def reset(self, p: Mapping[str, Any]) -> None:
        n = p["n_chains"]
        self.g_dbm, self.g_dbn = _generator(p["seed"]), _generator(p["seed"])
        self.x = self.dbm.random_state(n, self.g_dbm)
        self.top = self.dbn.sample_top(n, 0, self.g_dbn)
        self.sweeps = 0
        self._down()

    def _down(self) -> None:
        self.dbn_layers, self.dbn_mean = self.dbn.down_pass(self.top, self.g_dbn)

    def step(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        self.x = self.dbm.gibbs_sweep(self.x, generator=self.g_dbm)
        self.top = self.dbn.sample_top(self.top.shape[0], 1, self.g_dbn, start=self.top)
        self._down()
        self.sweeps += 1
        return {"dbm_energy": float(self.dbm.energy(self.x).mean())}

    def arrays(self) -> Mapping[str, np.ndarray]:
        dbm_mean = torch.sigmoid(self.dbm.layer_input(0, self.x))
        out = {"dbm_v": dbm_mean.numpy(), "dbn_v": self.dbn_mean.numpy(), "sweeps": np.array(self.sweeps)}
        for l in range(1, len(self.dbm.sizes)):
            out[f"dbm_h{l}"] = self.x[l].numpy().copy()
        out["dbn_h1"] = self.dbn_layers[1].numpy().copy() if len(self.dbn_layers) > 1 else self.top.numpy().copy()
        return out


def load_pretrained(path: str | os.PathLike = PRETRAINED) -> TrainedDBM:
    """The shipped MNIST DBM (see assets/README.md for the command that trained it)."""
    return load_trained(path)

