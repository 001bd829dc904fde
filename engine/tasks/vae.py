"""VAE training as Run tasks: one model live (AEVB or wake-sleep), or several compared side by side.

- :class:`VAETask`: one encoder/decoder pair trained by AEVB (the ELBO or the IWAE bound L_k)
  or by wake-sleep. Its parameters are declared once, in :data:`TRAIN_PARAMS`: lr, batch_size,
  beta and k act on the next step; dataset, n_z, hidden, activation, rule, binarization,
  decoder_variance and seed on Reset. The pages' widgets and ``genlab train vae``'s options come
  from the same list.
- :class:`CompareTask`: several latent sizes, each trained by AEVB and by wake-sleep on the
  same minibatches, for the lower bound against training samples seen (K&W Figure 2)
  and samples from the prior per N_z (K&W Figure 5). Parameters: :data:`COMPARE_PARAMS`.

Data: ``mnist`` (Bernoulli decoder, binarization named), ``frey`` (Gaussian decoder on
pixels in [0, 1]; its variance per z or shared, ``decoder_variance``) and ``digits`` (scikit-learn's 8x8 digits, Bernoulli, always offline).
"""

from __future__ import annotations

import copy
import functools
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from engine import data as datalib
from engine.models.vae import ACTIVATIONS, DECODER_VARIANCES, LATENT_SIZES, VAE, VAEConfig, make_decoder
from engine.models.vae_training import RULES, EpochSampler, VAETrainer
from engine.params import RESET, Param, Params

DATASETS = ("mnist", "frey", "digits")
TRAIN_SCHEMES = ("dynamic", "fixed", "threshold")
MNIST_HOLDOUT = 1000
"""When only MNIST's test split is on disk, its last 1000 images are held out and the first 9000 train."""
DATASET_NAMES = {"mnist": "MNIST", "frey": "Frey faces", "digits": "8x8 digits"}
"""How the pages name the datasets; a URL names the label, e.g. ?vae.dataset=Frey+faces."""
LR_TICKS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)


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


def epoch_steps(dataset: str, batch_size: int, epochs: float, root: str | None = None) -> int:
    """Minibatch steps for ``epochs`` passes over ``dataset``'s training images: ceil(epochs * N / M), at least 1."""
    n = len(load_vae_data(dataset, root if root is not None else data_root()).train)
    return max(1, math.ceil(epochs * n / batch_size))


# --------------------------------------------------------------------------- parameters

_DATASET_HELP = "MNIST: Bernoulli decoder on binarized digits; Frey faces: Gaussian decoder on gray values; 8x8 digits: Bernoulli, always offline."
TRAIN_PARAMS = Params(
    Param("dataset", "mnist", str, choices=DATASETS, when=RESET, label="Dataset", labels=DATASET_NAMES, help=_DATASET_HELP),
    Param("n_z", 2, int, choices=LATENT_SIZES, when=RESET, label="Latent size", symbol="N_z", help="Units of z; the manifold, latent and posterior pictures need N_z = 2."),
    Param("hidden", 400, int, 0, 2000, ticks=(16, 32, 50, 100, 200, 400, 500, 1000), when=RESET, label="Hidden units",
          help="One hidden layer in the encoder and in the decoder (0: linear maps).", per_dataset={"frey": 200, "digits": 200}),
    Param("activation", "tanh", str, choices=tuple(ACTIVATIONS), when=RESET, label="Activation", help="The hidden layer's nonlinearity (K&W: tanh)."),
    Param("rule", "aevb", str, choices=RULES, when=RESET, label="Learning rule", labels={"aevb": "AEVB", "wake-sleep": "wake-sleep"},
          help="AEVB ascends the reparameterized ELBO (K&W Algorithm 1); wake-sleep fits the decoder to q's codes and the encoder to the decoder's dreams (book 19.5)."),
    Param("binarization", "dynamic", str, choices=TRAIN_SCHEMES, when=RESET, label="Binarization",
          help="Bernoulli data: how training images become binary (dynamic: resampled each time, fixed: once, seeded; threshold: at 0.5). Held-out images: fixed, seed 0."),
    Param("decoder_variance", "per_z", str, choices=DECODER_VARIANCES, when=RESET, label="Decoder variance", symbol="σ²",
          labels={"per_z": "per z", "shared": "shared"},
          help="Gaussian data (Frey faces): per z = mean and variance per pixel from z (K&W appendix C.2); shared = one variance per pixel for every z."),
    Param("lr", 1e-3, float, 1e-5, 0.1, ticks=LR_TICKS, label="Learning rate", symbol="ε", help="Adam's step size."),
    Param("batch_size", 100, int, 1, 1000, ticks=(10, 20, 50, 100, 200, 500), label="Batch size", symbol="M", unit="examples"),
    Param("beta", 1.0, float, 0.0, 10.0, step=0.1, label="KL weight", symbol="β",
          help="AEVB with k = 1: the objective is E_q[log p(x|z)] − β KL(q(z|x) ‖ p(z)); β = 1 is the ELBO, any other β is no longer a bound on log p(x)."),
    Param("k", 1, int, 1, 100, ticks=(1, 2, 5, 10, 20, 50, 100), label="Importance samples", symbol="k",
          help="AEVB: k = 1 trains the ELBO, k > 1 the importance-weighted bound L_k (Burda et al. 2015, eq. 8; β is then ignored)."),
    Param("seed", 0, int, 0, 2**31 - 1, when=RESET, label="Seed", help="Initial weights, batch order, binarization and the samples of q."),
)
"""The VAE training task's parameters: the pages' widgets, ``genlab train vae``'s options and the Run's checks."""

MANIFOLD_PARAMS = TRAIN_PARAMS.replace(lr=replace(TRAIN_PARAMS["lr"], default=3e-3))
"""The manifold page's variant of :data:`TRAIN_PARAMS`: a larger starting learning rate (ε = 3e-3) than the training page's."""

COMPARE_PARAMS = Params(
    *TRAIN_PARAMS.subset(("dataset",)),
    replace(TRAIN_PARAMS["hidden"], default=200, per_dataset={}),
    *TRAIN_PARAMS.subset(("activation", "decoder_variance", "lr")),
    replace(TRAIN_PARAMS["batch_size"], when=RESET),
    TRAIN_PARAMS["seed"],
)
"""The comparison's parameters: every model shares them (200 hidden units each, dynamic binarization, β = 1, k = 1).
The batch size acts on Reset, so that training examples seen = step × batch size along the whole curve."""


# --------------------------------------------------------------------------- tasks


@torch.no_grad()
def _held_out_elbo(model: VAE, x: torch.Tensor, generator: torch.Generator) -> float:
    """The mean ELBO over held-out ``x``, one sample of q per image (K&W eq. 10).

    The samples come from the task's own generator, the one that draws the minibatches: so when a task
    evaluates is part of its trajectory. The page (every 200 steps) and ``genlab train vae`` (step 1 only)
    train the same model up to step 199; the shipped checkpoints' recorded commands rely on this stream.
    """
    return float(model.elbo_terms(x, generator).elbo.mean())


class VAETask:
    """Train one VAE live (Task protocol; parameters :data:`TRAIN_PARAMS`).

    Metrics per step: elbo, recon, kl (train batch), test_elbo at step 1 and every ``eval_every`` steps.
    """

    PARAMS = TRAIN_PARAMS
    divergence_hint = "lower the learning rate (or beta), then press Play"

    def __init__(self, eval_every: int = 200, eval_size: int = 500, root: str | None = None):
        self.eval_every, self.eval_size, self.root = eval_every, eval_size, root

    def reset(self, params: Mapping[str, Any]) -> None:
        self.data = load_vae_data(params["dataset"], self.root if self.root is not None else data_root())
        self.presenter = Presenter(self.data, params["binarization"], params["seed"])
        h, w = self.data.image_shape
        self.config = VAEConfig(h * w, params["n_z"], params["hidden"], params["activation"], self.data.likelihood, (h, w), decoder_variance=params["decoder_variance"])
        self.trainer = VAETrainer(self.config, params["rule"], params["lr"], params["seed"])
        self.generator = torch.Generator().manual_seed(params["seed"])
        self.sampler = EpochSampler(self.presenter.n, self.generator)
        self.test_x = self.presenter.test[: self.eval_size]
        self.scheme, self.rule, self.steps, self.seen = params["binarization"], params["rule"], 0, 0

    @property
    def model(self) -> VAE:
        return self.trainer.model

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        x = self.presenter.batch(self.sampler.next(params["batch_size"]), self.generator)
        metrics = self.trainer.step(x, params["lr"], params["beta"], params["k"], self.generator)
        self.steps += 1
        self.seen += len(x)
        metrics["samples_seen"] = float(self.seen)
        metrics["epoch"] = self.seen / self.presenter.n
        if self.steps % self.eval_every == 0 or self.steps == 1:
            metrics["test_elbo"] = _held_out_elbo(self.model, self.test_x, self.generator)
        return metrics

    def arrays(self) -> dict[str, np.ndarray]:
        """The decoder's parameters (the page decodes its manifold from them: cheap to copy, drawn at any grid size)."""
        return {name: t.detach().cpu().numpy() for name, t in self.model.decoder.state_dict().items()}

    def nonfinite(self) -> str | None:
        return self.trainer.nonfinite()

    def state(self) -> Any:
        return (self.trainer.state(), self.steps, self.seen)

    def restore(self, state: Any) -> None:
        trainer_state, self.steps, self.seen = state
        self.trainer.restore(trainer_state)


def decoder_from_arrays(config: VAEConfig, arrays: Mapping[str, np.ndarray]) -> torch.nn.Module:
    """A decoder (eval mode) carrying the parameters a task published (see ``VAETask.arrays``)."""
    decoder = make_decoder(config)
    decoder.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in arrays.items()})
    return decoder.eval()


class CompareTask:
    """Several N_z, each trained by each rule on the same minibatches (K&W Figures 2 and 5); parameters :data:`COMPARE_PARAMS`.

    ``latents`` (a subset of LATENT_SIZES) and ``rules`` (of RULES) fix which models there are.
    Metrics: ``<rule>/<n_z>/train`` (the batch ELBO, every step) and ``<rule>/<n_z>/test`` (held-out
    ELBO, every ``eval_every`` steps and at steps 1, 2, 4, 8, ...). One step = one minibatch for every model, so training samples
    seen = step * batch_size. Arrays: ``prior/<rule>/<n_z>``: decoder means of the same 64 z ~ p(z)
    (padded to each N_z), refreshed at each evaluation.
    """

    PARAMS = COMPARE_PARAMS
    divergence_hint = "lower the learning rate, then press Reset"

    def __init__(
        self, latents: tuple[int, ...] = LATENT_SIZES, rules: tuple[str, ...] = RULES,
        eval_every: int = 50, eval_size: int = 300, n_prior: int = 64, root: str | None = None,
    ):  # fmt: skip
        if not latents or any(n not in LATENT_SIZES for n in latents):
            raise ValueError(f"latents must be a non-empty subset of {LATENT_SIZES}, got {latents!r}")
        if not rules or any(r not in RULES for r in rules):
            raise ValueError(f"rules must be a non-empty subset of {RULES}, got {rules!r}")
        self.latents, self.rules = tuple(latents), tuple(rules)
        self.eval_every, self.eval_size, self.n_prior, self.root = eval_every, eval_size, n_prior, root

    def reset(self, params: Mapping[str, Any]) -> None:
        self.data = load_vae_data(params["dataset"], self.root if self.root is not None else data_root())
        self.presenter = Presenter(self.data, "dynamic", params["seed"])
        h, w = self.data.image_shape
        self.batch_size = params["batch_size"]
        self.trainers: dict[str, VAETrainer] = {}
        for n_z in self.latents:
            config = VAEConfig(h * w, n_z, params["hidden"], params["activation"], self.data.likelihood, (h, w), decoder_variance=params["decoder_variance"])
            for rule in self.rules:
                self.trainers[f"{rule}/{n_z}"] = VAETrainer(config, rule, params["lr"], params["seed"])
        self.generator = torch.Generator().manual_seed(params["seed"])
        self.sampler = EpochSampler(self.presenter.n, self.generator)
        self.test_x = self.presenter.test[: self.eval_size]
        self.prior_z = torch.randn((self.n_prior, max(self.latents)), generator=torch.Generator().manual_seed(1234))
        self.steps = 0
        self._refresh_prior_samples()

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        x = self.presenter.batch(self.sampler.next(self.batch_size), self.generator)
        metrics = {}
        for key, trainer in self.trainers.items():
            metrics[f"{key}/train"] = trainer.step(x, params["lr"], 1.0, 1, self.generator)["elbo"]
        self.steps += 1
        if self.steps % self.eval_every == 0 or self.steps & (self.steps - 1) == 0:  # and at powers of two, for a log axis
            for key, trainer in self.trainers.items():
                metrics[f"{key}/test"] = _held_out_elbo(trainer.model, self.test_x, self.generator)
            self._refresh_prior_samples()
        return metrics

    @torch.no_grad()
    def _refresh_prior_samples(self) -> None:
        self.prior_samples = {
            f"prior/{key}": trainer.model.decode_mean(self.prior_z[:, : trainer.model.config.n_z]).numpy() for key, trainer in self.trainers.items()
        }

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(self.prior_samples)

    def nonfinite(self) -> str | None:
        for key, trainer in self.trainers.items():
            bad = trainer.nonfinite()
            if bad is not None:
                return f"{key}: {bad}"
        return None

    def state(self) -> Any:
        return ({k: t.state() for k, t in self.trainers.items()}, self.steps, copy.deepcopy(self.prior_samples))

    def restore(self, state: Any) -> None:
        states, self.steps, self.prior_samples = state
        for k, s in states.items():
            self.trainers[k].restore(s)
