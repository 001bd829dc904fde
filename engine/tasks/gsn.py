"""Run tasks of the GSN lab: train a DAE or GSN, run clamped chains (inpainting), run free chains.

Each class implements the ``engine.run.Task`` protocol. Data: MNIST has only its test
split offline, so the lab trains on its first 8000 images and keeps the last 2000 as
held-out images (for reconstructions, clamping, the classifier's test); the 8x8
``digits`` set (always offline) uses its own train/test split.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine.data import Binarized, load
from engine.eval.inpainting import fill_baselines
from engine.models.clamp import REGIONS, check_images, check_mask, clamp_state, region_mask, start_clamped
from engine.models.corruption import check_corruption, corrupt
from engine.models.dae import check_walkback, reconstruction_nll
from engine.models.gsn import DEFAULT_HIDDEN_NOISE, MODEL_KINDS, ChainModel, build_model, check_hidden_noise, load_model
from engine.models.rbm import RBM, gibbs_step
from engine.tasks.rbm import load_pretrained

DATASETS = ("mnist", "digits")
MNIST_TRAIN = 8000
FILM_FRAMES = 10
LABEL_HISTORY = 300


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Split:
    """Gray images in [0, 1] flattened (N, D), labels, and the image size."""

    train: np.ndarray
    train_labels: np.ndarray
    heldout: np.ndarray
    heldout_labels: np.ndarray
    height: int
    width: int


def load_split(dataset: str, root: str | None = None, download: bool = True) -> Split:
    """The lab's train / held-out split of ``dataset`` (mnist: test images 0..7999 / 8000..9999).

    ``download=False`` (the pages) raises ``DataUnavailable`` instead of reaching for the network.
    """
    if dataset == "mnist":
        ds = load("mnist", "test", root=root, download=download)
        x, y = ds.as_float(), ds.labels.astype(np.int64)
        return Split(x[:MNIST_TRAIN], y[:MNIST_TRAIN], x[MNIST_TRAIN:], y[MNIST_TRAIN:], *ds.shape)
    if dataset == "digits":
        tr, te = load("digits", "train"), load("digits", "test")
        return Split(tr.as_float(), tr.labels.astype(np.int64), te.as_float(), te.labels.astype(np.int64), *tr.shape)
    raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")


def _check_range(params: Mapping[str, Any], name: str, lo: float, hi: float) -> None:
    if name in params and not lo <= float(params[name]) <= hi:
        raise ValueError(f"{name} must be between {lo:g} and {hi:g}, got {params[name]}")


def _check_chain_params(params: Mapping[str, Any], corruption: str) -> None:
    """Chain parameters in range; ``noise`` (None = the model's own level) against ``corruption``, the kind the
    chosen model corrupts with (a probability for salt_pepper and masking, a standard deviation for gaussian)."""
    if "noise" in params and params["noise"] is not None:
        check_corruption(corruption, params["noise"])
    _check_range(params, "chain_steps", 1, 1000)
    _check_range(params, "n_chains", 1, 1024)
    _check_range(params, "n_examples", 1, 256)


# --------------------------------------------------------------------------- training


@dataclass
class TrainConfig:
    model: str = "dae"
    dataset: str = "mnist"
    n_hidden: int = 500
    n_hidden2: int = 500
    corruption: str = "salt_pepper"
    noise: float = 0.3
    hidden_noise: float = DEFAULT_HIDDEN_NOISE
    walkback: int = 1
    lr: float = 1e-3
    batch_size: int = 100
    seed: int = 0


def check_train_params(params: Mapping[str, Any]) -> None:
    """ValueError naming a training parameter out of its range."""
    if params.get("model", "dae") not in MODEL_KINDS:
        raise ValueError(f"model must be one of {', '.join(MODEL_KINDS)}, got {params['model']!r}")
    if params.get("dataset", "mnist") not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {params['dataset']!r}")
    check_corruption(params.get("corruption", "salt_pepper"), params.get("noise", 0.3))
    check_walkback(params.get("walkback", 1))
    check_hidden_noise(params.get("hidden_noise", DEFAULT_HIDDEN_NOISE))
    _check_range(params, "lr", 1e-5, 0.1)
    _check_range(params, "batch_size", 1, 4096)
    _check_range(params, "n_hidden", 1, 10000)
    _check_range(params, "n_hidden2", 1, 10000)


class Trainer:
    """A model, its Adam optimiser and its data: one ``train_step`` per minibatch (used by the task and the CLI)."""

    def __init__(self, config: TrainConfig, split: Split, device: torch.device | str = "cpu", init_path: str | None = None):
        check_train_params(vars(config))
        self.config, self.split, self.device = config, split, torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(config.seed)
        cpu_gen = torch.Generator().manual_seed(config.seed)
        if init_path:
            self.model, _ = load_model(init_path, self.device)
            self.model.config.corruption, self.model.config.noise = config.corruption, config.noise
            self.model.config.walkback = config.walkback
        else:
            options = {"n_hidden": config.n_hidden} if config.model == "dae" else {
                "n_hidden1": config.n_hidden, "n_hidden2": config.n_hidden2, "hidden_noise": config.hidden_noise}  # fmt: skip
            self.model = build_model(config.model, split.height, split.width, cpu_gen, corruption=config.corruption,
                                     noise=config.noise, walkback=config.walkback, **options).to(self.device)  # fmt: skip
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.data = Binarized(torch.as_tensor(split.train, device=self.device), "dynamic", config.seed)
        self.heldout = torch.bernoulli(torch.as_tensor(split.heldout[:500], device=self.device), generator=torch.Generator(device=self.device).manual_seed(1))
        self.steps = 0

    def apply(self, params: Mapping[str, Any]) -> None:
        """Live changes: learning rate, corruption level and walkback take effect on the next step."""
        for group in self.optimizer.param_groups:
            group["lr"] = float(params.get("lr", group["lr"]))
        c = self.model.config
        c.noise = float(params.get("noise", c.noise))
        c.walkback = int(params.get("walkback", c.walkback))
        if hasattr(c, "hidden_noise"):
            c.hidden_noise = float(params.get("hidden_noise", c.hidden_noise))

    def train_step(self) -> dict[str, float]:
        """One Adam step on the walkback criterion; returns the mean loss and the one-step reconstruction NLL."""
        self.model.train()
        index = torch.randint(len(self.data), (self.config.batch_size,), generator=self.generator, device=self.device)
        losses = self.model.walkback_losses(self.data.batch(index, self.generator), self.generator)
        loss = losses.mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        return {"loss": float(loss.detach()), "reconstruction_nll": float(losses[0].detach())}

    @torch.no_grad()
    def heldout_nll(self) -> float:
        """One-step reconstruction NLL -log p(x | f(x~)) on 500 held-out images (nats per image)."""
        c = self.model.config
        g = torch.Generator(device=self.device).manual_seed(2)
        x_tilde = corrupt(self.heldout, c.corruption, c.noise, g)
        return float(reconstruction_nll(self.model.reconstruct_logits(x_tilde, g), self.heldout).mean())


class GSNTrainTask:
    """Train a DAE or GSN live. Params: TrainConfig fields, plus ``init`` (a checkpoint path to start from, or None)
    and ``root`` (data folder). Arrays: held-out inputs, their corruptions, reconstructions, and 16 chain samples
    advanced one step per training step."""

    divergence_hint = "lower the learning rate"
    EVAL_EVERY = 25

    def __init__(self, device: torch.device | str = "cpu"):
        self.device = device
        self._split_cache: dict[tuple, Split] = {}

    def check_params(self, params: Mapping[str, Any]) -> None:
        check_train_params(params)

    def reset(self, params: Mapping[str, Any]) -> None:
        key = (params.get("dataset", "mnist"), params.get("root"))
        if key not in self._split_cache:
            self._split_cache[key] = load_split(*key)
        config = TrainConfig(**{k: params[k] for k in TrainConfig.__dataclass_fields__ if k in params})
        self.trainer = Trainer(config, self._split_cache[key], self.device, params.get("init"))
        split = self.trainer.split
        self.inputs = self.trainer.heldout[:10]
        g = torch.Generator(device=self.trainer.device).manual_seed(config.seed + 7)
        self.chain = self.trainer.model.init_chain(torch.bernoulli(torch.full((16, split.height * split.width), 0.5, device=self.trainer.device), generator=g))
        self.chain_generator = g
        self._refresh_pictures()

    @torch.no_grad()
    def _refresh_pictures(self) -> None:
        m = self.trainer.model
        g = torch.Generator(device=self.trainer.device).manual_seed(3)
        self.corrupted = corrupt(self.inputs, m.config.corruption, m.config.noise, g)
        self.reconstructions = torch.sigmoid(m.reconstruct_logits(self.corrupted))
        self.chain = m.chain_step(self.chain, self.chain_generator)

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        self.trainer.apply(params)
        metrics = self.trainer.train_step()
        if self.trainer.steps % self.EVAL_EVERY == 0:
            metrics["heldout_nll"] = self.trainer.heldout_nll()
        self._refresh_pictures()
        return metrics

    def arrays(self) -> dict[str, np.ndarray]:
        h, w = self.trainer.split.height, self.trainer.split.width
        pics = {"inputs": self.inputs, "corrupted": self.corrupted.clamp(0, 1), "reconstructions": self.reconstructions, "samples": self.chain.mean}
        return {k: v.detach().cpu().numpy().reshape(-1, h, w) for k, v in pics.items()}

    def nonfinite(self) -> str | None:
        for name, p in self.trainer.model.named_parameters():
            if not bool(torch.isfinite(p).all()):
                return name
        return None

    def state(self) -> Any:
        return copy.deepcopy((self.trainer.model.state_dict(), self.trainer.optimizer.state_dict(), self.trainer.steps))

    def restore(self, state: Any) -> None:
        model_state, opt_state, steps = copy.deepcopy(state)
        self.trainer.model.load_state_dict(model_state)
        self.trainer.optimizer.load_state_dict(opt_state)
        self.trainer.steps = steps


# --------------------------------------------------------------------------- chains on a pretrained model


class _ChainTaskBase:
    """Shared by the clamped and free chains: a pretrained model (from ``models``), a generator, a filmstrip."""

    def __init__(self, models: Mapping[str, ChainModel], split: Split, classifier=None):
        if not models:
            raise ValueError("no model to sample from: give at least one checkpoint")
        self.models, self.split, self.classifier = dict(models), split, classifier

    def _model(self, params: Mapping[str, Any]) -> ChainModel:
        name = params.get("model_name", next(iter(self.models)))
        if name not in self.models:
            raise ValueError(f"model_name must be one of {', '.join(self.models)}, got {name!r}")
        return self.models[name]

    def check_params(self, params: Mapping[str, Any]) -> None:
        _check_chain_params(params, self._model(params).config.corruption)

    def _labels(self, means: torch.Tensor) -> np.ndarray | None:
        if self.classifier is None:
            return None
        return self.classifier.predict(means.cpu().numpy())

    def _push_frame(self, means: torch.Tensor) -> None:
        h, w = self.split.height, self.split.width
        self.film.append(means.cpu().numpy().reshape(-1, h, w))
        self.film_steps.append(self.chain_step_count)
        del self.film[:-FILM_FRAMES], self.film_steps[:-FILM_FRAMES]


FILL_BASELINES = ("intact", "mean_fill", "blank")
"""The order of the clamped task's ``fill_baselines`` array (see engine.eval.inpainting.fill_baselines)."""


class ClampedChainTask(_ChainTaskBase):
    """Figure 20.12 live: digits with a region clamped; each step runs ``chain_steps`` clamped chain steps.

    Params: model_name; region (one of REGIONS, or ``custom``: the boolean ``mask`` param, else the mask given
    to the constructor); mask; image (None: the held-out digits from index ``first``; else one image (H, W) or
    (D,) in [0, 1], e.g. a drawing, that every one of the ``n_examples`` chains completes); noise (None = the
    model's own), chain_steps, n_examples, first, init, seed; rbm (True: also run the pretrained MNIST RBM's
    clamped Gibbs chain, or the RBM given to the constructor, from the same start, as a comparison).
    Array params may be flat tuples, so that the pages can compare them with ``==``; ``image``, ``mask``
    and ``rbm`` take effect on reset. With labelled digits and a classifier, ``fill_baselines`` holds the classifier's
    accuracy on these digits intact, with the free pixels set to the mean training image (the floor), and blank.
    """

    def __init__(self, models, split: Split, classifier=None, mask: np.ndarray | None = None, rbm: RBM | None = None):
        super().__init__(models, split, classifier)
        self.custom_mask = None if mask is None else check_mask(mask, split.height, split.width)
        self.given_rbm = rbm

    def _mask(self, params: Mapping[str, Any]) -> torch.Tensor:
        h, w = self.split.height, self.split.width
        region = params.get("region", "right")
        if region != "custom":
            return check_mask(region_mask(region, h, w), h, w)
        if params.get("mask") is not None:
            return check_mask(np.asarray(params["mask"], dtype=bool), h, w)
        if self.custom_mask is None:
            raise ValueError("region 'custom' needs a mask: paint one, or give it to the task")
        return self.custom_mask

    def _rbm(self) -> RBM:
        """The comparison RBM: the one given to the constructor, else the pretrained MNIST RBM (loaded once)."""
        if self.given_rbm is None:
            self.given_rbm, _ = load_pretrained("mnist")
        d = self.split.height * self.split.width
        if self.given_rbm.gaussian or self.given_rbm.n_visible != d:
            raise ValueError(f"the comparison RBM must have {d} binary visible units (the images are {self.split.height}x{self.split.width})")
        return self.given_rbm

    def check_params(self, params: Mapping[str, Any]) -> None:
        super().check_params(params)
        if params.get("region", "right") not in REGIONS + ("custom",):
            raise ValueError(f"region must be one of {', '.join(REGIONS)} or custom, got {params['region']!r}")
        self._mask(params)
        if params.get("image") is not None and len(check_images(params["image"], self.split.height, self.split.width)) != 1:
            raise ValueError("image must be a single image (every chain completes the same one)")
        if params.get("rbm"):
            self._rbm()
        _check_range(params, "first", 0, len(self.split.heldout) - 1)

    def reset(self, params: Mapping[str, Any]) -> None:
        self.model = self._model(params)
        self.mask = self._mask(params)
        device = self.model.b.device
        n = int(params.get("n_examples", 16))
        if params.get("image") is None:
            index = np.arange(int(params.get("first", 0)), int(params.get("first", 0)) + n) % len(self.split.heldout)
            self.x = torch.as_tensor(self.split.heldout[index], device=device)
            self.labels = self.split.heldout_labels[index]
        else:
            self.x = check_images(params["image"], self.split.height, self.split.width).to(device).expand(n, -1).contiguous()
            self.labels = None
        self.baselines = None
        if self.labels is not None and self.classifier is not None:
            self.baselines = fill_baselines(self.classifier, self.split.heldout[index], self.labels, self.mask.cpu().numpy(), self.split.train.mean(0))
        seed = int(params.get("seed", 0))
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self.chain_state = clamp_state(start_clamped(self.model, self.x, self.mask, self.generator, params.get("init", "noise")), self.x, self.mask)
        self.chain_step_count, self.film, self.film_steps = 0, [], []
        self._push_frame(self.chain_state.mean)
        self.rbm = None
        if params.get("rbm"):
            self.rbm = self._rbm().to(device)
            self.rbm_generator = torch.Generator(device=device).manual_seed(seed)
            self.rbm_v = self.chain_state.x.clone()
            self.rbm_mean = self.rbm_v
            self.rbm_film = [self._image_rows(self.rbm_mean)]

    def _image_rows(self, flat: torch.Tensor) -> np.ndarray:
        return flat.cpu().numpy().reshape(-1, self.split.height, self.split.width)

    @torch.no_grad()
    def _rbm_step(self) -> None:
        """One block Gibbs sweep of the RBM with the masked pixels clamped (section 20.2, eqs. 20.14 and 20.16).

        E(v, h) is linear in v, so with v_clamped fixed (gray levels included) P(v_free, h | v_clamped) is an
        RBM over (v_free, h) whose hidden biases are c + W_clamped' v_clamped; the chain samples it exactly in
        the limit. Displayed: E[v_free | h] in the free pixels, x in the clamped ones.
        """
        self.rbm_v, h, _ = gibbs_step(self.rbm, self.rbm_v, 1.0, self.rbm_generator, self.mask)
        self.rbm_mean = torch.where(self.mask, self.x, self.rbm.mean_v_given_h(h))

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        self.model = self._model(params)
        before = self.chain_state.x
        for _ in range(int(params.get("chain_steps", 1))):
            self.chain_state = clamp_state(self.model.chain_step(self.chain_state, self.generator, params.get("noise")), self.x, self.mask)
            if self.rbm is not None:
                self._rbm_step()
            self.chain_step_count += 1
        self._push_frame(self.chain_state.mean)
        free = ~self.mask
        metrics = {"changed_free_pixels": float((self.chain_state.x[:, free] != before[:, free]).float().mean())}
        if self.labels is not None:
            predicted = self._labels(self.chain_state.mean)
            if predicted is not None:
                metrics["accuracy"] = float((predicted == self.labels).mean())
        if self.rbm is not None:
            self.rbm_film.append(self._image_rows(self.rbm_mean))
            del self.rbm_film[:-FILM_FRAMES]
            predicted = self._labels(self.rbm_mean) if self.labels is not None else None
            if predicted is not None:
                metrics["rbm_accuracy"] = float((predicted == self.labels).mean())
        return metrics

    def arrays(self) -> dict[str, np.ndarray]:
        h, w = self.split.height, self.split.width
        out = {
            "original": self.x.cpu().numpy().reshape(-1, h, w),
            "mask": self.mask.cpu().numpy().reshape(h, w),
            "current": self.chain_state.mean.cpu().numpy().reshape(-1, h, w),
            "film": np.stack(self.film),
            "film_steps": np.asarray(self.film_steps),
        }
        if self.labels is not None:
            out["labels"] = np.asarray(self.labels)
        if self.baselines is not None:
            out["fill_baselines"] = np.array([self.baselines[k] for k in FILL_BASELINES])
        if self.rbm is not None:
            out["rbm_current"] = self._image_rows(self.rbm_mean)
            out["rbm_film"] = np.stack(self.rbm_film)
        return out


class FreeChainTask(_ChainTaskBase):
    """A free-running chain from noise or from held-out data, with the classifier's label of every chain over time.

    Params: model_name, start ("noise" or "data"), noise, chain_steps, n_chains, seed.
    """

    def check_params(self, params: Mapping[str, Any]) -> None:
        super().check_params(params)
        if params.get("start", "noise") not in ("noise", "data"):
            raise ValueError(f"start must be noise or data, got {params['start']!r}")

    def reset(self, params: Mapping[str, Any]) -> None:
        self.model = self._model(params)
        n, d = int(params.get("n_chains", 16)), self.split.height * self.split.width
        device = self.model.b.device
        self.generator = torch.Generator(device=device).manual_seed(int(params.get("seed", 0)))
        if params.get("start", "noise") == "data":
            index = np.arange(n) % len(self.split.heldout)
            start = torch.bernoulli(torch.as_tensor(self.split.heldout[index], device=device), generator=self.generator)
        else:
            start = torch.bernoulli(torch.full((n, d), 0.5, device=device), generator=self.generator)
        self.chain_state = self.model.init_chain(start)
        self.chain_step_count, self.film, self.film_steps = 0, [], []
        self.label_history: list[np.ndarray] = []
        self._push_frame(self.chain_state.mean)
        self._record_labels()

    def _record_labels(self) -> None:
        labels = self._labels(self.chain_state.mean)
        if labels is not None:
            self.label_history.append(labels)
            del self.label_history[:-LABEL_HISTORY]

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        self.model = self._model(params)
        for _ in range(int(params.get("chain_steps", 1))):
            self.chain_state = self.model.chain_step(self.chain_state, self.generator, params.get("noise"))
            self.chain_step_count += 1
        self._push_frame(self.chain_state.mean)
        self._record_labels()
        metrics = {}
        if len(self.label_history) > 1:
            history = np.stack(self.label_history)
            metrics["classes_visited"] = float(np.mean([len(np.unique(col)) for col in history.T]))
            metrics["label_switch_rate"] = float((history[1:] != history[:-1]).mean())
        return metrics

    def arrays(self) -> dict[str, np.ndarray]:
        h, w = self.split.height, self.split.width
        out = {
            "current": self.chain_state.mean.cpu().numpy().reshape(-1, h, w),
            "film": np.stack(self.film),
            "film_steps": np.asarray(self.film_steps),
        }
        if self.label_history:
            out["label_history"] = np.stack(self.label_history)
        return out
