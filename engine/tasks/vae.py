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
import math
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine import data as datalib
from engine.models.vae import ACTIVATIONS, DECODER_VARIANCES, LATENT_SIZES, VAE, VAEConfig, make_decoder
from engine.models.vae_training import RULES, VAETrainer
from engine.pair import Comparison
from engine.params import RESET, Param, Params

DATASETS = ("mnist", "frey", "digits")
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "vae"
PRETRAINED = {"mnist": ASSETS / "mnist_z2", "frey": ASSETS / "frey_z2"}
"""The shipped N_z = 2 models (commands in assets/README.md); ``start="pretrained"`` trains on from them."""
TRAIN_SCHEMES = ("dynamic", "fixed", "threshold")
MNIST_HOLDOUT = 1000
"""When only MNIST's test split is on disk, its last 1000 images are held out and the first 9000 train."""
DATASET_NAMES = {"mnist": "MNIST", "frey": "Frey faces", "digits": "8x8 digits"}
"""How the pages name the datasets; a URL names the label, e.g. ?vae.dataset=Frey+faces."""
LR_TICKS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)


def data_root() -> str | None:
    return os.environ.get("GENLAB_DATA") or None


def load_vae_data(dataset: str, root: str | None = None, download: bool = True) -> datalib.Split:
    """engine.data's train / held-out split of ``dataset``; MNIST's train (60000) and test (10000) splits when both are
    on disk, else its test split alone: images 0-8999 train, 9000-9999 held out.

    ``download=False`` (the pages) raises ``DataUnavailable`` instead of reaching for the network.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    return datalib.train_heldout(dataset, root, download, mnist_heldout=MNIST_HOLDOUT, mnist_train_split=True)


def decoder_likelihood(data: datalib.Split) -> str:
    """The decoder's p(x|z) for ``data``: ``gaussian`` on the gray values of Frey faces, ``bernoulli`` on binarized digits."""
    return "gaussian" if data.name == "frey" else "bernoulli"


def heldout_images(data: datalib.Split, n: int | None = None, first: int = 0) -> str:
    """Which images held-out examples ``first`` .. ``first + n - 1`` (default: all) are, in words, with their presentation.

    E.g. "MNIST test images 9000-9499, binarized once ('fixed', seed 0)" or "Frey frames 1765-1964 (of 0-1964), gray values in [0, 1]".
    """
    total = len(data.heldout)
    n = total - first if n is None else min(n, total - first)
    if not (0 <= first < total and n >= 1):
        raise ValueError(f"held-out examples {first}..{first + (n or 1) - 1} are outside 0..{total - 1}")
    if data.heldout_first is not None:
        a = data.heldout_first + first
        name, _, rest = data.heldout_file.partition(" (")
        span = f"s {a}-{a + n - 1}" if n > 1 else f" {a}"
        where = name.removesuffix("s") + span + (f" ({rest}" if rest else "")
    elif first == 0 and n == total:
        where = f"all {data.heldout_file}"
    else:
        where = (f"numbers {first}-{first + n - 1}" if n > 1 else f"number {first}") + f" of the {data.heldout_file}"
    if decoder_likelihood(data) == "gaussian":
        return f"{where}, gray values in [0, 1]"
    return f"{where}, binarized once ('fixed', seed 0)"


def likelihood_name(data: datalib.Split, scheme: str, decoder_variance: str = "per_z") -> str:
    """What the reported log-likelihoods are likelihoods of, in words."""
    if decoder_likelihood(data) == "gaussian":
        if decoder_variance == "shared":
            return "Gaussian p(x|z) on pixels in [0, 1] (one learned variance per pixel, shared by every z)"
        return "Gaussian p(x|z) on pixels in [0, 1] (mean and variance per pixel from z, K&W appendix C.2)"
    return f"Bernoulli p(x|z) on binarized pixels: train '{scheme}', test 'fixed' (seed 0)"


def training_rows(data: datalib.Split, scheme: str, seed: int) -> datalib.Binarized:
    """The training images as the model sees them: binarized under ``scheme`` (Bernoulli decoder) or gray (Gaussian)."""
    if decoder_likelihood(data) == "gaussian":
        return datalib.Binarized(data.train, "gray")
    if scheme not in TRAIN_SCHEMES:
        raise ValueError(f"binarization must be one of {', '.join(TRAIN_SCHEMES)}, got {scheme!r}")
    return datalib.Binarized(data.train, scheme, seed)


def heldout_rows(data: datalib.Split) -> torch.Tensor:
    """The held-out images as every evaluation sees them: binarized once ('fixed', seed 0), or gray values (Gaussian)."""
    return data.heldout if decoder_likelihood(data) == "gaussian" else datalib.Binarized(data.heldout, "fixed", 0).fixed


def epoch_steps(dataset: str, batch_size: int, epochs: float, root: str | None = None) -> int:
    """Minibatch steps for ``epochs`` passes over ``dataset``'s training images: ceil(epochs * N / M), at least 1."""
    n = len(load_vae_data(dataset, root if root is not None else data_root()).train)
    return max(1, math.ceil(epochs * n / batch_size))


# --------------------------------------------------------------------------- parameters

_DATASET_HELP = "MNIST: Bernoulli decoder on binarized digits; Frey faces: Gaussian decoder on gray values; 8x8 digits: Bernoulli, always offline."
TRAIN_PARAMS = Params(
    Param("dataset", "mnist", str, choices=DATASETS, when=RESET, label="Dataset", labels=DATASET_NAMES, help=_DATASET_HELP),
    Param("start", "scratch", str, choices=("pretrained", "scratch"), when=RESET, label="Start from",
          labels={"pretrained": "the pretrained model", "scratch": "random weights"},
          help="pretrained: train on from the N_z = 2 model in assets/vae (MNIST, Frey faces; its sizes are the checkpoint's); other datasets start from random weights."),
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

MANIFOLD_PARAMS = TRAIN_PARAMS.replace(lr=replace(TRAIN_PARAMS["lr"], default=3e-3), start=replace(TRAIN_PARAMS["start"], default="pretrained"))
"""The manifold page's variant of :data:`TRAIN_PARAMS`: it opens on the pretrained model (Play trains it on) and starts
with a larger learning rate (ε = 3e-3) than the training page's."""

COMPARE_PARAMS = Params(
    *TRAIN_PARAMS.subset(("dataset",)),
    replace(TRAIN_PARAMS["hidden"], default=200, per_dataset={}),
    *TRAIN_PARAMS.subset(("activation", "decoder_variance", "lr")),
    replace(TRAIN_PARAMS["batch_size"], when=RESET),
    TRAIN_PARAMS["seed"],
)
"""The comparison's parameters: every model shares them (200 hidden units each, dynamic binarization, β = 1, k = 1).
The batch size acts on Reset, so that training examples seen = step × batch size along the whole curve."""


COMPARISONS = (
    Comparison("AEVB against wake-sleep", {"rule": "aevb"}, {"rule": "wake-sleep"},
               why="Both train the same encoder and decoder; AEVB follows the ELBO's reparameterized gradient, wake-sleep trains the encoder on dreamed samples (K&W Figure 2)."),
    Comparison("KL weight β = 1 against β = 4", {"beta": 1.0}, {"beta": 4.0},
               why="A heavier KL term pulls q(z | x) towards the prior: blurrier reconstructions, a smoother latent space."),
)  # fmt: skip
"""The VAE training page's pairs (lab.compare)."""

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
        self.rows = training_rows(self.data, params["binarization"], params["seed"])
        h, w = self.data.image_shape
        self.config = VAEConfig(h * w, params["n_z"], params["hidden"], params["activation"], decoder_likelihood(self.data), (h, w), decoder_variance=params["decoder_variance"])
        start = PRETRAINED.get(params["dataset"]) if params.get("start") == "pretrained" else None
        if start is not None:
            pretrained, extra = VAE.load(start)
            self.config, self.source = pretrained.config, f"pretrained {start.name} (held-out ELBO {extra['test_elbo']:.1f} when shipped)"
        else:
            self.source = "random weights"
        self.trainer = VAETrainer(self.config, params["rule"], params["lr"], params["seed"])
        if start is not None:
            self.trainer.model.load_state_dict({k: v.float() for k, v in pretrained.state_dict().items()})
        self.generator = torch.Generator().manual_seed(params["seed"])
        self.sampler = datalib.EpochSampler(len(self.rows), self.generator)
        self.test_x = heldout_rows(self.data)[: self.eval_size]
        self.scheme, self.rule, self.steps, self.seen = params["binarization"], params["rule"], 0, 0

    @property
    def model(self) -> VAE:
        return self.trainer.model

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        x = self.rows.batch(self.sampler.next(params["batch_size"]), self.generator)
        metrics = self.trainer.step(x, params["lr"], params["beta"], params["k"], self.generator)
        self.steps += 1
        self.seen += len(x)
        metrics["samples_seen"] = float(self.seen)
        metrics["epoch"] = self.seen / len(self.rows)
        if self.steps % self.eval_every == 0 or self.steps == 1:
            metrics["test_elbo"] = _held_out_elbo(self.model, self.test_x, self.generator)
        return metrics

    def arrays(self) -> dict[str, np.ndarray]:
        """The decoder's parameters (the page decodes its manifold from them: cheap to copy, drawn at any grid size)."""
        return {name: t.detach().cpu().numpy() for name, t in self.model.decoder.state_dict().items()}

    def nonfinite(self) -> str | None:
        return self.trainer.nonfinite()

    def shared_data(self) -> tuple:
        """What training only reads (engine.timeline): the data, its training rows and the held-out rows."""
        return (self.data, self.rows, self.test_x)

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
        self.rows = training_rows(self.data, "dynamic", params["seed"])
        h, w = self.data.image_shape
        self.batch_size = params["batch_size"]
        self.trainers: dict[str, VAETrainer] = {}
        for n_z in self.latents:
            config = VAEConfig(h * w, n_z, params["hidden"], params["activation"], decoder_likelihood(self.data), (h, w), decoder_variance=params["decoder_variance"])
            for rule in self.rules:
                self.trainers[f"{rule}/{n_z}"] = VAETrainer(config, rule, params["lr"], params["seed"])
        self.generator = torch.Generator().manual_seed(params["seed"])
        self.sampler = datalib.EpochSampler(len(self.rows), self.generator)
        self.test_x = heldout_rows(self.data)[: self.eval_size]
        self.prior_z = torch.randn((self.n_prior, max(self.latents)), generator=torch.Generator().manual_seed(1234))
        self.steps = 0
        self._refresh_prior_samples()

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        x = self.rows.batch(self.sampler.next(self.batch_size), self.generator)
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

    def shared_data(self) -> tuple:
        """What training only reads (engine.timeline): the data, its training rows, the held-out rows and the fixed prior draws."""
        return (self.data, self.rows, self.test_x, self.prior_z)

    def state(self) -> Any:
        return ({k: t.state() for k, t in self.trainers.items()}, self.steps, copy.deepcopy(self.prior_samples))

    def restore(self, state: Any) -> None:
        states, self.steps, self.prior_samples = state
        for k, s in states.items():
            self.trainers[k].restore(s)
