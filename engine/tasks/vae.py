"""VAE training as Run tasks: one model live (AEVB or wake-sleep), or several compared side by side.

- :class:`VAETask`: one encoder/decoder pair trained by AEVB (the ELBO or the IWAE bound L_k)
  or by wake-sleep. Live parameters: lr, batch_size, beta, k. Structural ones (dataset,
  n_z, hidden, activation, decoder_variance, rule, binarization, seed) take effect on Reset.
- :class:`CompareTask`: several latent sizes, each trained by AEVB and by wake-sleep on the
  same minibatches, for the lower bound against training samples seen (K&W Figure 2)
  and samples from the prior per N_z (K&W Figure 5).

Data: ``mnist`` (Bernoulli decoder, binarization named), ``frey`` (Gaussian decoder on
pixels in [0, 1]; its variance per z or shared, ``decoder_variance``) and ``digits`` (scikit-learn's 8x8 digits, Bernoulli, always offline).
"""

from __future__ import annotations

import copy
import functools
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine import data as datalib
from engine.models.vae import ACTIVATIONS, DECODER_VARIANCES, LATENT_SIZES, VAE, VAEConfig, make_decoder
from engine.models.optim import set_lr
from engine.models.wake_sleep import wake_sleep_step

DATASETS = ("mnist", "frey", "digits")
RULES = ("aevb", "wake-sleep")
TRAIN_SCHEMES = ("dynamic", "fixed", "threshold")
MNIST_HOLDOUT = 1000
"""When only MNIST's test split is on disk, its last 1000 images are held out and the first 9000 train."""
DEFAULT_HIDDEN = {"mnist": 400, "frey": 200, "digits": 200}


@dataclass(frozen=True)
class VAEData:
    """Train and test images as float tensors in [0, 1], (N, H*W), and how they are presented to the model."""

    name: str
    train: torch.Tensor
    test: torch.Tensor
    test_labels: np.ndarray | None
    image_shape: tuple[int, int]
    likelihood: str
    source: str
    """Which files and rows were used, in words."""
    test_file: str = ""
    """Where the held-out images come from, e.g. "MNIST test images"."""
    test_first: int | None = None
    """Index in ``test_file`` of held-out image 0 when the held-out images are one contiguous block (else None)."""


def data_root() -> str | None:
    return os.environ.get("GENLAB_DATA") or None


def _on_disk(name: str, split: str, root: str | None) -> datalib.ImageSet | None:
    try:
        return datalib.load(name, split, root, download=False)
    except datalib.DataUnavailable:
        return None


def _mnist_splits(root: str | None, download: bool) -> tuple[datalib.ImageSet | None, datalib.ImageSet]:
    """(train, test) from disk; (None, test) when only the test split is there; else both downloaded (when allowed)."""
    train, test = _on_disk("mnist", "train", root), _on_disk("mnist", "test", root)
    if test is None:
        return datalib.load("mnist", "train", root, download), datalib.load("mnist", "test", root, download)
    return train, test


@functools.lru_cache(maxsize=4)
def load_vae_data(dataset: str, root: str | None = None, download: bool = True) -> VAEData:
    """The train/test images of ``dataset`` (see module docstring); cached per process.

    ``download=False`` (the pages) raises ``DataUnavailable`` instead of reaching for the network.
    """
    if dataset == "mnist":
        train_set, test_set = _mnist_splits(root, download)
        if train_set is not None:
            source = "MNIST train (60000) / test (10000)"
            train, test, labels = train_set.as_float(), test_set.as_float(), test_set.labels
        else:
            cut = len(test_set) - MNIST_HOLDOUT
            flat = test_set.as_float()
            train, test, labels = flat[:cut], flat[cut:], test_set.labels[cut:]
            source = f"MNIST test split only: images 0-{cut - 1} train, {cut}-{len(test_set) - 1} held out"
        first = 0 if train_set is not None else len(test_set) - MNIST_HOLDOUT
        return VAEData("mnist", torch.from_numpy(train), torch.from_numpy(test), labels, (28, 28), "bernoulli", source, "MNIST test images", first)
    if dataset == "frey":
        tr, te = datalib.load("frey", "train", root, download), datalib.load("frey", "test", root, download)
        source = f"Frey faces: first {len(tr)} frames train, last {len(te)} held out"
        frames = f"Frey frames (of 0-{len(tr) + len(te) - 1})"
        return VAEData("frey", torch.from_numpy(tr.as_float()), torch.from_numpy(te.as_float()), None, tr.shape, "gaussian", source, frames, len(tr))
    if dataset == "digits":
        tr, te = datalib.load("digits", "train"), datalib.load("digits", "test")
        source = f"scikit-learn 8x8 digits: {len(tr)} train, {len(te)} held out"
        held = f"scikit-learn 8x8 digits held out by a seeded permutation (numpy seed 0, {len(te)} images)"
        return VAEData("digits", torch.from_numpy(tr.as_float()), torch.from_numpy(te.as_float()), te.labels, tr.shape, "bernoulli", source, held)
    raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")


def heldout_images(data: VAEData, n: int | None = None, first: int = 0) -> str:
    """Which images held-out examples ``first`` .. ``first + n - 1`` (default: all) are, in words, with their presentation.

    E.g. "MNIST test images 9000-9499, binarized once ('fixed', seed 0)" or "Frey frames 1765-1964 (of 0-1964), gray values in [0, 1]".
    """
    total = len(data.test)
    n = total - first if n is None else min(n, total - first)
    if not (0 <= first < total and n >= 1):
        raise ValueError(f"held-out examples {first}..{first + (n or 1) - 1} are outside 0..{total - 1}")
    if data.test_first is not None:
        a = data.test_first + first
        name, _, rest = data.test_file.partition(" (")
        span = f"s {a}-{a + n - 1}" if n > 1 else f" {a}"
        where = name.removesuffix("s") + span + (f" ({rest}" if rest else "")
    elif first == 0 and n == total:
        where = f"all {data.test_file}"
    else:
        where = (f"numbers {first}-{first + n - 1}" if n > 1 else f"number {first}") + f" of the {data.test_file}"
    if data.likelihood == "gaussian":
        return f"{where}, gray values in [0, 1]"
    return f"{where}, binarized once ('fixed', seed 0)"


def likelihood_name(data: VAEData, scheme: str, decoder_variance: str = "per_z") -> str:
    """What the reported log-likelihoods are likelihoods of, in words."""
    if data.likelihood == "gaussian":
        if decoder_variance == "shared":
            return "Gaussian p(x|z) on pixels in [0, 1] (one learned variance per pixel, shared by every z)"
        return "Gaussian p(x|z) on pixels in [0, 1] (mean and variance per pixel from z, K&W appendix C.2)"
    return f"Bernoulli p(x|z) on binarized pixels: train '{scheme}', test 'fixed' (seed 0)"


class Presenter:
    """Batches of training data under a binarization scheme (Bernoulli) or as gray values (Gaussian), and a fixed test set."""

    def __init__(self, data: VAEData, scheme: str, seed: int):
        if data.likelihood == "bernoulli":
            if scheme not in TRAIN_SCHEMES:
                raise ValueError(f"binarization must be one of {', '.join(TRAIN_SCHEMES)}, got {scheme!r}")
            self.train = datalib.Binarized(data.train, scheme, seed)
            self.test = datalib.Binarized(data.test, "fixed", 0).fixed
        else:
            self.train = datalib.Binarized(data.train, "gray")
            self.test = data.test
        self.n = len(data.train)

    def batch(self, index: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self.train.batch(index, generator)


class EpochSampler:
    """Minibatch indices: a fresh random permutation each epoch."""

    def __init__(self, n: int, generator: torch.Generator):
        self.n, self.g = n, generator
        self.order, self.pos, self.epoch = torch.randperm(n, generator=generator), 0, 0

    def next(self, size: int) -> torch.Tensor:
        size = min(size, self.n)
        if self.pos + size > self.n:
            self.order, self.pos, self.epoch = torch.randperm(self.n, generator=self.g), 0, self.epoch + 1
        idx = self.order[self.pos : self.pos + size]
        self.pos += size
        return idx


def _check_range(params: Mapping[str, Any], name: str, lo: float, hi: float) -> None:
    v = params.get(name)
    if v is None:
        return
    if not (isinstance(v, (int, float)) and math.isfinite(float(v)) and lo <= float(v) <= hi):
        raise ValueError(f"{name} must be between {lo:g} and {hi:g}, got {v!r}")


def check_vae_params(params: Mapping[str, Any]) -> None:
    """Raise ValueError naming the parameter and its allowed range."""
    if params.get("dataset", "mnist") not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {params.get('dataset')!r}")
    if params.get("rule", "aevb") not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {params.get('rule')!r}")
    if params.get("activation", "tanh") not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {params.get('activation')!r}")
    if params.get("decoder_variance", "per_z") not in DECODER_VARIANCES:
        raise ValueError(f"decoder_variance must be one of {', '.join(DECODER_VARIANCES)}, got {params.get('decoder_variance')!r}")
    if params.get("binarization", "dynamic") not in TRAIN_SCHEMES:
        raise ValueError(f"binarization must be one of {', '.join(TRAIN_SCHEMES)}, got {params.get('binarization')!r}")
    if "n_z" in params and params["n_z"] not in LATENT_SIZES:
        raise ValueError(f"n_z must be one of {', '.join(map(str, LATENT_SIZES))}, got {params['n_z']!r}")
    _check_range(params, "lr", 1e-5, 0.1)
    _check_range(params, "batch_size", 1, 1000)
    _check_range(params, "beta", 0.0, 10.0)
    _check_range(params, "k", 1, 100)
    _check_range(params, "hidden", 0, 2000)
    _check_range(params, "seed", 0, 2**31 - 1)


class Learner:
    """One model and its optimizer(s) under one learning rule."""

    def __init__(self, config: VAEConfig, rule: str, lr: float, seed: int):
        torch.manual_seed(seed)
        self.model, self.rule = VAE(config), rule
        if rule == "aevb":
            self.opts = [torch.optim.Adam(self.model.parameters(), lr=lr)]
        else:
            self.opts = [torch.optim.Adam(self.model.decoder.parameters(), lr=lr), torch.optim.Adam(self.model.encoder.parameters(), lr=lr)]

    def step(self, x: torch.Tensor, lr: float, beta: float, k: int, generator: torch.Generator) -> dict[str, float]:
        for opt in self.opts:
            set_lr(opt, lr)
        if self.rule == "wake-sleep":
            return wake_sleep_step(self.model, self.opts[0], self.opts[1], x, generator)
        opt = self.opts[0]
        opt.zero_grad(set_to_none=True)
        loss, metrics = self.model.training_loss(x, beta, k, generator)
        loss.backward()
        opt.step()
        return metrics

    def state(self) -> Any:
        return copy.deepcopy((self.model.state_dict(), [o.state_dict() for o in self.opts]))

    def restore(self, state: Any) -> None:
        model_state, opt_states = copy.deepcopy(state)
        self.model.load_state_dict(model_state)
        for opt, s in zip(self.opts, opt_states):
            opt.load_state_dict(s)

    def nonfinite(self) -> str | None:
        """The first parameter holding NaN or Inf, or None. One fused sum per step; the per-tensor search only on failure."""
        with torch.no_grad():
            total = torch.stack([p.sum() for p in self.model.parameters()]).sum()
        if torch.isfinite(total):
            return None
        return next((name for name, p in self.model.named_parameters() if not torch.isfinite(p).all()), "a parameter (overflow)")


@torch.no_grad()
def held_out_elbo(model: VAE, x: torch.Tensor, generator: torch.Generator) -> float:
    return float(model.elbo_terms(x, generator).elbo.mean())


class VAETask:
    """Train one VAE live (Task protocol). Metrics per step: elbo, recon, kl (train batch), test_elbo every ``eval_every`` steps."""

    divergence_hint = "lower the learning rate (or beta), then press Play"
    DEFAULTS: dict[str, Any] = {
        "dataset": "mnist", "n_z": 2, "hidden": 400, "activation": "tanh", "rule": "aevb", "binarization": "dynamic",
        "decoder_variance": "per_z", "lr": 1e-3, "batch_size": 100, "beta": 1.0, "k": 1, "seed": 0,
    }  # fmt: skip

    def __init__(self, eval_every: int = 200, eval_size: int = 500, root: str | None = None):
        self.eval_every, self.eval_size, self.root = eval_every, eval_size, root

    def check_params(self, params: Mapping[str, Any]) -> None:
        check_vae_params(params)

    def reset(self, params: Mapping[str, Any]) -> None:
        p = {**self.DEFAULTS, **params}
        self.data = load_vae_data(p["dataset"], self.root if self.root is not None else data_root())
        self.presenter = Presenter(self.data, p["binarization"], int(p["seed"]))
        h, w = self.data.image_shape
        self.config = VAEConfig(h * w, int(p["n_z"]), int(p["hidden"]), p["activation"], self.data.likelihood, (h, w), decoder_variance=p["decoder_variance"])
        self.learner = Learner(self.config, p["rule"], float(p["lr"]), int(p["seed"]))
        self.generator = torch.Generator().manual_seed(int(p["seed"]))
        self.sampler = EpochSampler(self.presenter.n, self.generator)
        self.test_x = self.presenter.test[: self.eval_size]
        self.scheme, self.rule, self.steps, self.seen = p["binarization"], p["rule"], 0, 0

    @property
    def model(self) -> VAE:
        return self.learner.model

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        batch = int(params.get("batch_size", 100))
        x = self.presenter.batch(self.sampler.next(batch), self.generator)
        metrics = self.learner.step(x, float(params.get("lr", 1e-3)), float(params.get("beta", 1.0)), int(params.get("k", 1)), self.generator)
        self.steps += 1
        self.seen += len(x)
        metrics["samples_seen"] = float(self.seen)
        metrics["epoch"] = self.seen / self.presenter.n
        if self.steps % self.eval_every == 0 or self.steps == 1:
            metrics["test_elbo"] = held_out_elbo(self.model, self.test_x, self.generator)
        return metrics

    def arrays(self) -> dict[str, np.ndarray]:
        """The decoder's parameters (the page decodes its manifold from them: cheap to copy, drawn at any grid size)."""
        return {name: t.detach().cpu().numpy() for name, t in self.model.decoder.state_dict().items()}

    def nonfinite(self) -> str | None:
        return self.learner.nonfinite()

    def state(self) -> Any:
        return (self.learner.state(), self.steps, self.seen)

    def restore(self, state: Any) -> None:
        learner_state, self.steps, self.seen = state
        self.learner.restore(learner_state)


def decoder_from_arrays(config: VAEConfig, arrays: Mapping[str, np.ndarray]) -> torch.nn.Module:
    """A decoder (eval mode) carrying the parameters a task published (see ``VAETask.arrays``)."""
    decoder = make_decoder(config)
    decoder.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in arrays.items()})
    return decoder.eval()


class CompareTask:
    """Several N_z, each trained by each rule on the same minibatches (K&W Figures 2 and 5).

    Metrics: ``<rule>/<n_z>/train`` (the batch ELBO, every step) and ``<rule>/<n_z>/test`` (held-out
    ELBO, every ``eval_every`` steps and at steps 1, 2, 4, 8, ...). One step = one minibatch for every model, so training samples
    seen = step * batch_size. Arrays: ``prior/<rule>/<n_z>``: decoder means of the same 64 z ~ p(z)
    (padded to each N_z), refreshed at each evaluation.
    """

    divergence_hint = "lower the learning rate, then press Reset"
    DEFAULTS: dict[str, Any] = {
        "dataset": "mnist", "latents": (2, 5, 10, 20), "rules": RULES, "hidden": 200, "activation": "tanh", "decoder_variance": "per_z",
        "lr": 1e-3, "batch_size": 100, "seed": 0,
    }  # fmt: skip

    def __init__(self, eval_every: int = 50, eval_size: int = 300, n_prior: int = 64, root: str | None = None):
        self.eval_every, self.eval_size, self.n_prior, self.root = eval_every, eval_size, n_prior, root

    def check_params(self, params: Mapping[str, Any]) -> None:
        check_vae_params({k: v for k, v in params.items() if k not in ("latents", "rules")})
        latents, rules = params.get("latents", ()), params.get("rules", ())
        if not latents or any(n not in LATENT_SIZES for n in latents):
            raise ValueError(f"latents must be a non-empty subset of {LATENT_SIZES}, got {latents!r}")
        if not rules or any(r not in RULES for r in rules):
            raise ValueError(f"rules must be a non-empty subset of {RULES}, got {rules!r}")

    def reset(self, params: Mapping[str, Any]) -> None:
        p = {**self.DEFAULTS, **params}
        self.data = load_vae_data(p["dataset"], self.root if self.root is not None else data_root())
        self.presenter = Presenter(self.data, "dynamic", int(p["seed"]))
        h, w = self.data.image_shape
        self.batch_size = int(p["batch_size"])
        self.learners: dict[str, Learner] = {}
        for n_z in p["latents"]:
            config = VAEConfig(h * w, int(n_z), int(p["hidden"]), p["activation"], self.data.likelihood, (h, w), decoder_variance=p["decoder_variance"])
            for rule in p["rules"]:
                self.learners[f"{rule}/{n_z}"] = Learner(config, rule, float(p["lr"]), int(p["seed"]))
        self.generator = torch.Generator().manual_seed(int(p["seed"]))
        self.sampler = EpochSampler(self.presenter.n, self.generator)
        self.test_x = self.presenter.test[: self.eval_size]
        self.prior_z = torch.randn((self.n_prior, max(p["latents"])), generator=torch.Generator().manual_seed(1234))
        self.steps = 0
        self._refresh_prior_samples()

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        x = self.presenter.batch(self.sampler.next(self.batch_size), self.generator)
        lr = float(params.get("lr", 1e-3))
        metrics = {}
        for key, learner in self.learners.items():
            metrics[f"{key}/train"] = learner.step(x, lr, 1.0, 1, self.generator)["elbo"]
        self.steps += 1
        if self.steps % self.eval_every == 0 or self.steps & (self.steps - 1) == 0:  # and at powers of two, for a log axis
            for key, learner in self.learners.items():
                metrics[f"{key}/test"] = held_out_elbo(learner.model, self.test_x, self.generator)
            self._refresh_prior_samples()
        return metrics

    @torch.no_grad()
    def _refresh_prior_samples(self) -> None:
        self.prior_samples = {
            f"prior/{key}": learner.model.decode_mean(self.prior_z[:, : learner.model.config.n_z]).numpy() for key, learner in self.learners.items()
        }

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(self.prior_samples)

    def nonfinite(self) -> str | None:
        for key, learner in self.learners.items():
            bad = learner.nonfinite()
            if bad is not None:
                return f"{key}: {bad}"
        return None

    def state(self) -> Any:
        return ({k: lr.state() for k, lr in self.learners.items()}, self.steps, copy.deepcopy(self.prior_samples))

    def restore(self, state: Any) -> None:
        states, self.steps, self.prior_samples = state
        for k, s in states.items():
            self.learners[k].restore(s)


def train_epochs(task: VAETask, params: Mapping[str, Any], epochs: float, progress: Any = None) -> dict[str, float]:
    """Run ``task`` for ``epochs`` passes over the training set; return the last metrics."""
    steps = max(1, math.ceil(epochs * task.presenter.n / int(params.get("batch_size", 100))))
    metrics: dict[str, float] = {}
    for _ in range(steps):
        metrics = task.step(params)
        if not all(math.isfinite(v) for v in metrics.values()):
            raise ValueError(f"training diverged at step {task.steps} ({metrics}); lower the learning rate")
        if progress is not None:
            progress(metrics)
    return metrics

