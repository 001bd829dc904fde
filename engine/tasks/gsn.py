"""Run tasks of the GSN lab: train a DAE or GSN, run clamped chains (inpainting), run free chains.

Each class implements the ``engine.run.Task`` protocol. Data: MNIST has only its test
split offline, so the lab trains on its first 8000 images and keeps the last 2000 as
held-out images (for reconstructions, clamping, the classifier's test); the 8x8
``digits`` set (always offline) uses its own train/test split.

Parameters are declared once (engine.params): :data:`TRAIN_PARAMS` for training,
:func:`clamped_chain_params` and :func:`free_chain_params` for the chains (their ``model_name``
chooses among the models a task is given). The Run completes and range-checks them; a task's
``check_params`` keeps only what depends on its data and models.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine import checkpoint
from engine.data import Split, train_heldout
from engine.eval.inpainting import fill_baselines
from engine.models.clamp import REGIONS, check_images, check_mask, clamp_state, region_mask, start_clamped
from engine.models.corruption import CORRUPTIONS, MAX_GAUSSIAN_STD, check_corruption, corrupt
from engine.models.dae import MAX_WALKBACK
from engine.models.gsn import DEFAULT_HIDDEN_NOISE, MAX_HIDDEN_NOISE, MODEL_KINDS, ChainModel, load_model, save_model
from engine.models.gsn_training import GSNTrainer
from engine.models.rbm import RBM, gibbs_step
from engine.pair import Comparison
from engine.params import ARRAY, RESET, Param, Params
from engine.tasks.rbm import load_pretrained

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "gsn"
PRETRAINED = ("dae_walkback", "dae_onestep", "gsn")
"""The pretrained chains in assets/gsn (MNIST), in the order the chain pages offer them."""
START_CHECKPOINTS = {"dae": ASSETS / "dae_walkback", "gsn": ASSETS / "gsn"}
"""What the training task starts from with ``start="pretrained"``, by model kind."""
DATASETS = ("mnist", "digits")
MNIST_TRAIN = 8000
MNIST_IMAGES = 10000
"""MNIST's test split: the first MNIST_TRAIN images train, the rest are held out."""
FILM_FRAMES = 10
LABEL_HISTORY = 300


# --------------------------------------------------------------------------- data


def load_split(dataset: str, root: str | None = None, download: bool = True) -> Split:
    """engine.data's train / held-out split of ``dataset`` with the lab's MNIST cut (test images 0..7999 / 8000..9999).

    ``download=False`` (the pages) raises ``DataUnavailable`` instead of reaching for the network.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    return train_heldout(dataset, root, download, mnist_heldout=MNIST_IMAGES - MNIST_TRAIN)


# --------------------------------------------------------------------------- parameters


def noise_param(corruption: str = "gaussian") -> Param:
    """The corruption level's declaration for a model that corrupts with ``corruption``: a probability in [0, 1]
    (salt_pepper, masking) or a standard deviation in [0, 3] (gaussian). The tasks declare the widest level their
    models allow and check it against the model's own kind (:func:`check_corruption`); a page narrows its slider
    to the kind of the model it shows."""
    top = MAX_GAUSSIAN_STD if corruption == "gaussian" else 1.0
    return Param("noise", 0.3, float, 0.0, top, step=0.05, label="Corruption level",
                 help="Probability that C(x̃ | x) replaces a pixel (salt-and-pepper: by a coin flip, masking: by 0); "
                      "for Gaussian corruption the standard deviation of the added noise.")  # fmt: skip


SEED = Param("seed", 0, int, 0, 9999, when=RESET, label="Seed", help="Initial weights or chain starts, corruption and samples.")
HIDDEN_TICKS = (16, 32, 64, 100, 250, 500, 1000)
TRAIN_PARAMS = Params(
    Param("architecture", "dae", str, choices=MODEL_KINDS, when=RESET, label="Architecture",
          labels={"dae": "DAE (1 hidden layer)", "gsn": "GSN (2 hidden layers, h carried)"},
          help="A denoising autoencoder's chain x → x̃ → h → x' (section 20.11), or a GSN whose top layer h2 is carried along the chain (section 20.12)."),
    Param("dataset", "mnist", str, choices=DATASETS, when=RESET, label="Data", labels={"mnist": "MNIST 28x28", "digits": "8x8 digits (offline)"},
          help="mnist trains on test images 0..7999 (the split available offline) and holds out 8000..9999; digits uses its own split."),
    Param("start", "pretrained", str, choices=("pretrained", "scratch"), when=RESET, label="Start from",
          labels={"pretrained": "the pretrained checkpoint", "scratch": "random weights"},
          help="The pretrained checkpoints of assets/gsn are MNIST models; on digits, training starts from scratch."),
    Param("hidden", 500, int, 1, 10000, ticks=HIDDEN_TICKS, when=RESET, label="Hidden units", symbol="n_h",
          help="Units of the DAE's hidden layer, or of a GSN's first hidden layer h1 (from scratch)."),
    Param("hidden2", 500, int, 1, 10000, ticks=HIDDEN_TICKS, when=RESET, label="Second hidden layer", symbol="n_h2",
          help="GSN only: units of h2, the layer carried from step to step (from scratch)."),
    Param("corruption", "salt_pepper", str, choices=CORRUPTIONS, when=RESET, label="Corruption C(x̃ | x)",
          labels={"salt_pepper": "salt-and-pepper", "gaussian": "Gaussian (level = std)", "masking": "masking (set to 0)"}),
    noise_param("gaussian"),
    Param("hidden_noise", DEFAULT_HIDDEN_NOISE, float, 0.0, MAX_HIDDEN_NOISE, step=0.05, label="Hidden noise", symbol="σ",
          help="GSN only: std of the Gaussian noise added to each hidden unit before and after its sigmoid (0: none)."),
    Param("walkback", 4, int, 1, MAX_WALKBACK, step=1, label="Walkback steps", symbol="k",
          help="Chain steps unrolled from each training example, every reconstruction penalised against it (1 = one-step training)."),
    Param("lr", 1e-3, float, 1e-5, 0.1, ticks=(1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2, 3e-2, 0.1), label="Learning rate", symbol="ε", help="Adam's step size."),
    Param("batch_size", 100, int, 1, 4096, ticks=(10, 20, 50, 100, 200, 500), label="Batch size", unit="examples"),
    SEED,
)
"""The DAE / GSN training task's parameters: the training page's widgets and ``genlab train gsn``'s options."""


COMPARISONS = (
    Comparison("walkback against one step", {"walkback": 4}, {"walkback": 1},
               why="Walkback penalises every step of a short chain from the data, so the spurious modes the chain would visit get trained away (section 20.11.3)."),
    Comparison("low against high corruption", {"noise": 0.1}, {"noise": 0.5},
               why="More corruption makes each reconstruction a longer jump: the chain mixes faster, the samples get blurrier."),
)  # fmt: skip
"""The training page's pairs (lab.compare)."""

def _model_param(names: tuple[str, ...], titles: Mapping[str, str]) -> Param:
    return Param("model_name", names[0], str, choices=names, label="Model", labels={n: titles.get(n, n) for n in names},
                 help="The chain's transition operator; switching model keeps the chain running.")  # fmt: skip


CHAIN_STEPS = Param("chain_steps", 1, int, 1, 20, step=1, label="Chain steps per frame")
INITS = ("noise", "blank", "data")
"""How the free pixels of a clamped chain start (engine.models.clamp.start_clamped)."""
REGION_NAMES = {"right": "keep the right half", "left": "keep the left half", "top": "keep the top half",
                "bottom": "keep the bottom half", "square": "fill a centred square", "custom": "keep the pixels I paint"}  # fmt: skip


def clamped_chain_params(models: Mapping[str, ChainModel], titles: Mapping[str, str] | None = None) -> Params:
    """The clamped chain task's parameters for these models (``model_name`` chooses among them; the corruption level
    is declared as widely as their corruption kinds allow)."""
    return Params(
        _model_param(tuple(models), titles or {}),
        Param("region", "right", str, choices=(*REGIONS, "custom"), when=RESET, label="Clamp", labels=REGION_NAMES,
              help="The clamped (kept) pixels; the chain resamples the others."),
        Param("mask", None, ARRAY, when=RESET, label="Painted mask", help="Region custom: the pixels to keep, True = clamped.", cli=False),
        Param("image", None, ARRAY, when=RESET, label="Drawn image", help="One image in [0, 1] every chain completes (None: the held-out digits).", cli=False),
        _widest_noise(models),
        CHAIN_STEPS,
        Param("n_examples", 16, int, 1, 256, ticks=(8, 16, 32, 64), when=RESET, label="Examples"),
        Param("first", 0, int, 0, 99999, when=RESET, label="First held-out digit", help="Index of the first held-out image the chains complete."),
        Param("init", "noise", str, choices=INITS, when=RESET, label="Free pixels start as",
              labels={"noise": "coin flips", "blank": "black", "data": "the true pixels"}),
        SEED,
        Param("rbm", False, bool, when=RESET, label="Compare with the RBM's clamped Gibbs chain",
              help="The pretrained MNIST RBM (500 hidden units) resamples the same free pixels from the same start, one Gibbs sweep per chain step."),
        keyed_by="model_name",
    )  # fmt: skip


def free_chain_params(models: Mapping[str, ChainModel], titles: Mapping[str, str] | None = None) -> Params:
    """The free chain task's parameters for these models."""
    return Params(
        _model_param(tuple(models), titles or {}),
        Param("start", "noise", str, choices=("noise", "data"), when=RESET, label="Start from",
              labels={"noise": "coin-flip noise", "data": "held-out digits"}),
        _widest_noise(models),
        CHAIN_STEPS,
        Param("n_chains", 36, int, 1, 1024, ticks=(16, 36, 64), when=RESET, label="Chains"),
        SEED,
        keyed_by="model_name",
    )  # fmt: skip


def _widest_noise(models: Mapping[str, ChainModel]) -> Param:
    gaussian = any(m.config.corruption == "gaussian" for m in models.values())
    return noise_param("gaussian" if gaussian else "salt_pepper")


class GSNTrainTask:
    """Train a DAE or GSN live (parameters: :data:`TRAIN_PARAMS`). Arrays: held-out inputs, their corruptions,
    reconstructions, and 16 chain samples advanced one step per training step.

    ``start="pretrained"`` begins from the checkpoint of ``checkpoints`` for the model kind (default: the walkback
    DAE and the GSN of assets/gsn) when it exists and was trained on the chosen dataset; otherwise training starts
    from random weights (:attr:`source` says which)."""

    divergence_hint = "lower the learning rate"
    EVAL_EVERY = 25
    PARAMS = TRAIN_PARAMS

    def __init__(self, device: torch.device | str = "cpu", root: str | None = None, checkpoints: Mapping[str, str | Path] | None = None):
        self.device, self.root = device, root
        self.checkpoints = dict(START_CHECKPOINTS if checkpoints is None else checkpoints)
        self._split_cache: dict[str, Split] = {}

    def check_params(self, params: Mapping[str, Any]) -> None:
        check_corruption(params["corruption"], params["noise"])

    def _start_model(self, params: Mapping[str, Any]) -> tuple[ChainModel | None, str]:
        """The checkpoint to start from (or None) and the run's source in words."""
        path = self.checkpoints.get(params["architecture"])
        if params["start"] == "pretrained" and path is not None and checkpoint.paths(path)[0].exists():
            model, extra = load_model(path)
            if extra.get("dataset") == params["dataset"]:
                return model, f"pretrained {extra.get('title', checkpoint.paths(path)[0].stem)}"
        size = params["hidden"] if params["architecture"] == "dae" else f"{params['hidden']}-{params['hidden2']}"
        return None, f"random start, {size} hidden units"

    def reset(self, params: Mapping[str, Any]) -> None:
        dataset = params["dataset"]
        if dataset not in self._split_cache:
            self._split_cache[dataset] = load_split(dataset, self.root)
        init, self.source = self._start_model(params)
        split = self._split_cache[dataset]
        self.trainer = GSNTrainer(params, split.train, split.heldout, *split.image_shape, self.device, init)
        self.inputs = self.trainer.heldout[:10]
        g = torch.Generator(device=self.trainer.device).manual_seed(int(params["seed"]) + 7)
        self.chain = self.trainer.model.init_chain(torch.bernoulli(torch.full((16, split.train.shape[1]), 0.5, device=self.trainer.device), generator=g))
        self.chain_generator = g
        self._refresh_pictures()

    def save(self, path: str | Path, params: Mapping[str, Any]) -> None:
        """Write the trained model with what it was trained on and how (the task's parameters and the steps taken)."""
        m = self.trainer.model
        title = f"{m.kind.upper()} {params['dataset']}, walkback k = {m.config.walkback}"
        save_model(path, m, {"dataset": params["dataset"], "binarization": "dynamic", "title": title,
                             "heldout_reconstruction_nll": self.trainer.heldout_nll(),
                             "training": {**params, "trained_steps": self.trainer.steps}})  # fmt: skip

    @torch.no_grad()
    def _refresh_pictures(self) -> None:
        m = self.trainer.model
        g = torch.Generator(device=self.trainer.device).manual_seed(3)
        self.corrupted = corrupt(self.inputs, m.config.corruption, m.config.noise, g)
        self.reconstructions = torch.sigmoid(m.reconstruct_logits(self.corrupted))
        self.chain = m.chain_step(self.chain, self.chain_generator)

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        self.trainer.apply(params)
        metrics = self.trainer.train_step(int(params["batch_size"]))
        if self.trainer.steps % self.EVAL_EVERY == 0:
            metrics["heldout_nll"] = self.trainer.heldout_nll()
        self._refresh_pictures()
        return metrics

    def arrays(self) -> dict[str, np.ndarray]:
        h, w = self.trainer.height, self.trainer.width
        pics = {"inputs": self.inputs, "corrupted": self.corrupted.clamp(0, 1), "reconstructions": self.reconstructions, "samples": self.chain.mean}
        return {k: v.detach().cpu().numpy().reshape(-1, h, w) for k, v in pics.items()}

    def nonfinite(self) -> str | None:
        for name, p in self.trainer.model.named_parameters():
            if not bool(torch.isfinite(p).all()):
                return name
        return None

    def shared_data(self) -> tuple:
        """What training only reads (engine.timeline): the loaded splits and the trainer's training and held-out rows."""
        return (self._split_cache, self.trainer.data, self.trainer.heldout, self.inputs)

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

    declare: Any
    """The subclass's parameter declarations for its models: :func:`clamped_chain_params` or :func:`free_chain_params`."""

    def __init__(self, models: Mapping[str, ChainModel], split: Split, classifier=None, titles: Mapping[str, str] | None = None):
        if not models:
            raise ValueError("no model to sample from: give at least one checkpoint")
        self.models, self.split, self.classifier = dict(models), split, classifier
        self.PARAMS = self.declare(self.models, titles)

    def shared_data(self) -> tuple:
        """What a chain only reads (engine.timeline): the models, the data split and the digit classifier."""
        return (self.models, self.split, self.classifier)

    def _model(self, params: Mapping[str, Any]) -> ChainModel:
        return self.models[params["model_name"]]

    def check_params(self, params: Mapping[str, Any]) -> None:
        """The corruption level against the chosen model's own kind (a probability, or a std for gaussian)."""
        check_corruption(self._model(params).config.corruption, params["noise"])

    def _labels(self, means: torch.Tensor) -> np.ndarray | None:
        if self.classifier is None:
            return None
        return self.classifier.predict(means.cpu().numpy())

    def _push_frame(self, means: torch.Tensor) -> None:
        h, w = self.split.image_shape
        self.film.append(means.cpu().numpy().reshape(-1, h, w))
        self.film_steps.append(self.chain_step_count)
        del self.film[:-FILM_FRAMES], self.film_steps[:-FILM_FRAMES]


FILL_BASELINES = ("intact", "mean_fill", "blank")
"""The order of the clamped task's ``fill_baselines`` array (see engine.eval.inpainting.fill_baselines)."""


class ClampedChainTask(_ChainTaskBase):
    """Figure 20.12 live: digits with a region clamped; each step runs ``chain_steps`` clamped chain steps.

    Params (:func:`clamped_chain_params`): model_name; region (one of engine.models.clamp.REGIONS, or ``custom``:
    the boolean ``mask`` param, else the mask given to the constructor); mask; image (None: the held-out digits from
    index ``first``; else one image (H, W) or (D,) in [0, 1], e.g. a drawing, that every one of the ``n_examples``
    chains completes); noise, chain_steps, n_examples, first, init, seed; rbm (True: also run the pretrained MNIST
    RBM's clamped Gibbs chain, or the RBM given to the constructor, from the same start, as a comparison).
    Array params are flat tuples, so that the pages can compare them with ``==``. With labelled digits and a classifier, ``fill_baselines`` holds the classifier's
    accuracy on these digits intact, with the free pixels set to the mean training image (the floor), and blank.
    """

    declare = staticmethod(clamped_chain_params)

    def __init__(self, models, split: Split, classifier=None, mask: np.ndarray | None = None, rbm: RBM | None = None, titles: Mapping[str, str] | None = None):
        super().__init__(models, split, classifier, titles)
        self.custom_mask = None if mask is None else check_mask(mask, *split.image_shape)
        self.given_rbm = rbm

    def _mask(self, params: Mapping[str, Any]) -> torch.Tensor:
        h, w = self.split.image_shape
        region = params["region"]
        if region != "custom":
            return check_mask(region_mask(region, h, w), h, w)
        if params["mask"] is not None:
            return check_mask(np.asarray(params["mask"], dtype=bool), h, w)
        if self.custom_mask is None:
            raise ValueError("region 'custom' needs a mask: paint one, or give it to the task")
        return self.custom_mask

    def _rbm(self) -> RBM:
        """The comparison RBM: the one given to the constructor, else the pretrained MNIST RBM (loaded once)."""
        if self.given_rbm is None:
            self.given_rbm, _ = load_pretrained("mnist")
        d = self.split.train.shape[1]
        if self.given_rbm.gaussian or self.given_rbm.n_visible != d:
            raise ValueError(f"the comparison RBM must have {d} binary visible units (the images are {'x'.join(map(str, self.split.image_shape))})")
        return self.given_rbm

    def check_params(self, params: Mapping[str, Any]) -> None:
        """What depends on the data and the models: the noise level against the model's corruption, the mask, the
        drawn image's size, the comparison RBM's size, and, without an image, held-out digits from ``first`` on."""
        super().check_params(params)
        self._mask(params)
        if params["image"] is not None and len(check_images(params["image"], *self.split.image_shape)) != 1:
            raise ValueError("image must be a single image (every chain completes the same one)")
        if params["rbm"]:
            self._rbm()
        n = len(self.split.heldout)
        if params["image"] is None and n == 0:
            raise ValueError("there are no held-out digits to clamp (the data is absent): give an image to complete, e.g. a drawing")
        if params["image"] is None and params["first"] >= n:
            raise ValueError(f"first must be below the number of held-out images ({n}): between 0 and {n - 1}, got {params['first']}")

    def shared_data(self) -> tuple:
        """What a clamped chain only reads (engine.timeline): the base's, and the RBM it is compared with."""
        return (*super().shared_data(), self.given_rbm)

    def reset(self, params: Mapping[str, Any]) -> None:
        self.model = self._model(params)
        self.mask = self._mask(params)
        device = self.model.b.device
        n = params["n_examples"]
        if params["image"] is None:
            index = np.arange(params["first"], params["first"] + n) % len(self.split.heldout)
            self.x = torch.as_tensor(self.split.heldout[index], device=device)
            self.labels = self.split.heldout_labels[index]
        else:
            self.x = check_images(params["image"], *self.split.image_shape).to(device).expand(n, -1).contiguous()
            self.labels = None
        self.baselines = None
        if self.labels is not None and self.classifier is not None:
            self.baselines = fill_baselines(self.classifier, self.split.heldout[index], self.labels, self.mask.cpu().numpy(), self.split.train.mean(0))
        seed = params["seed"]
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self.chain_state = clamp_state(start_clamped(self.model, self.x, self.mask, self.generator, params["init"]), self.x, self.mask)
        self.chain_step_count, self.film, self.film_steps = 0, [], []
        self._push_frame(self.chain_state.mean)
        self.rbm = None
        if params["rbm"]:
            self.rbm = self._rbm().to(device)
            self.rbm_generator = torch.Generator(device=device).manual_seed(seed)
            self.rbm_v = self.chain_state.x.clone()
            self.rbm_mean = self.rbm_v
            self.rbm_film = [self._image_rows(self.rbm_mean)]

    def _image_rows(self, flat: torch.Tensor) -> np.ndarray:
        return flat.cpu().numpy().reshape(-1, *self.split.image_shape)

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
        for _ in range(params["chain_steps"]):
            self.chain_state = clamp_state(self.model.chain_step(self.chain_state, self.generator, params["noise"]), self.x, self.mask)
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
        h, w = self.split.image_shape
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


def shape_only_split(models: Mapping[str, ChainModel]) -> Split:
    """A Split with no images, only the models' picture shape: all a free chain from noise needs, where the data is
    absent (it then cannot start from held-out digits, and no classifier labels its chains)."""
    config = next(iter(models.values())).config
    empty = torch.zeros(0, config.height * config.width)
    return Split("none", empty, empty, (config.height, config.width), "no images", "no images")


class FreeChainTask(_ChainTaskBase):
    """A free-running chain from noise or from held-out data, with the classifier's label of every chain over time.

    Params (:func:`free_chain_params`): model_name, start ("noise" or "data"), noise, chain_steps, n_chains, seed.
    """

    declare = staticmethod(free_chain_params)

    def check_params(self, params: Mapping[str, Any]) -> None:
        super().check_params(params)
        if params["start"] == "data" and not len(self.split.heldout):
            raise ValueError("start='data' needs held-out images and this chain has none (no MNIST here): start from noise")

    def reset(self, params: Mapping[str, Any]) -> None:
        self.model = self._model(params)
        n, d = params["n_chains"], self.split.train.shape[1]
        device = self.model.b.device
        self.generator = torch.Generator(device=device).manual_seed(params["seed"])
        if params["start"] == "data":
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
        for _ in range(params["chain_steps"]):
            self.chain_state = self.model.chain_step(self.chain_state, self.generator, params["noise"])
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
        h, w = self.split.image_shape
        out = {
            "current": self.chain_state.mean.cpu().numpy().reshape(-1, h, w),
            "film": np.stack(self.film),
            "film_steps": np.asarray(self.film_steps),
        }
        if self.label_history:
            out["label_history"] = np.stack(self.label_history)
        return out
