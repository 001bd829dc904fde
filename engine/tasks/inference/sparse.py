"""The sparse coding page's run task: ISTA or FISTA inference of every training patch's code, then one dictionary
step, per step (book section 19.3); its patches (8x8 digits, MNIST patches, natural-image patches) and its lessons."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine import data as datalib
from engine.inference.sparse_coding import (
    SOLVERS,
    code_sparsity,
    dictionary_step,
    infer_codes,
    mean_objective,
    objective_trace,
    random_dictionary,
    reconstruction_error,
)
from engine.params import RESET, Param, Params

PATCH = 8
"""Patches are PATCH x PATCH pixels."""
HELDOUT = 256
"""Held-out patches (never trained on) for the PSD comparison."""
SHOWN = 10
"""Training patches shown with their reconstructions."""
DATASETS = ("digits", "mnist", "natural")
COMPARE_EVERY = 25
"""Steps between two ISTA-against-FISTA comparisons on the current dictionary (and at every change of λ)."""
COMPARE_ITERATIONS = 100
COMPARE_PATCHES = 64


@dataclass(frozen=True)
class Patches:
    """Training and held-out patches as float32 rows (N, PATCH²); ``signed`` when their mean was removed
    (natural images: shown with gray = 0), and where they came from, in words."""

    train: torch.Tensor
    heldout: torch.Tensor
    signed: bool
    source: str


def mnist_available(root: str | None = None) -> bool:
    """Whether the MNIST test images are on disk (they are never downloaded here)."""
    try:
        datalib.load("mnist", "test", root, download=False)
        return True
    except datalib.DataError:
        return False


def _random_patches(images: np.ndarray, n: int, rng: np.random.Generator, min_ink: float = 0.0) -> np.ndarray:
    """``n`` PATCH x PATCH patches at random places of random images (N, H, W), each with mean at least ``min_ink``."""
    out: list[np.ndarray] = []
    _, height, width = images.shape
    while len(out) < n:
        i = rng.integers(len(images), size=4 * n)
        r = rng.integers(height - PATCH + 1, size=4 * n)
        c = rng.integers(width - PATCH + 1, size=4 * n)
        for a, b, e in zip(i, r, c):
            patch = images[a, b : b + PATCH, e : e + PATCH]
            if patch.mean() >= min_ink:
                out.append(patch.reshape(-1))
            if len(out) == n:
                break
    return np.stack(out).astype(np.float32)


def _gray(name: str) -> np.ndarray:
    from sklearn.datasets import load_sample_image

    return load_sample_image(name).astype(np.float32).mean(axis=2)[None] / 255.0


@functools.lru_cache(maxsize=8)
def load_patches(dataset: str, n: int, seed: int, root: str | None = None) -> Patches:
    """``n`` training patches and :data:`HELDOUT` held-out ones, drawn with ``seed``:

    - ``digits``: scikit-learn's bundled 8x8 digits, whole (engine.data's train split trains, its test split is held out);
    - ``mnist``: 8x8 patches with some ink (mean ≥ 0.1) of MNIST test images 0-8999, held out from 9000-9999 (the files
      must be on disk: ``genlab data fetch mnist``);
    - ``natural``: 8x8 patches of scikit-learn's sample photograph china.jpg in gray, held out from flower.jpg, each
      with its mean removed and all scaled by one factor (2x the training pixels' standard deviation).
    """
    rng = np.random.default_rng(seed)
    if dataset == "digits":
        train, test = datalib.load("digits", "train"), datalib.load("digits", "test")
        rows = rng.permutation(len(train))[: min(n, len(train))]
        return Patches(torch.from_numpy(train.as_float()[rows]), torch.from_numpy(test.as_float()[:HELDOUT]), False,
                       f"scikit-learn's 8x8 digits: {len(rows)} training images, {HELDOUT} held-out test images")  # fmt: skip
    if dataset == "mnist":
        images = datalib.load("mnist", "test", root, download=False).images.astype(np.float32) / 255.0
        train, held = _random_patches(images[:9000], n, rng, 0.1), _random_patches(images[9000:], HELDOUT, rng, 0.1)
        return Patches(torch.from_numpy(train), torch.from_numpy(held), False, f"{n} 8x8 patches of MNIST test images 0-8999, {HELDOUT} held out from 9000-9999")
    if dataset == "natural":
        train, held = _random_patches(_gray("china.jpg"), n, rng), _random_patches(_gray("flower.jpg"), HELDOUT, rng)
        train, held = train - train.mean(axis=1, keepdims=True), held - held.mean(axis=1, keepdims=True)
        scale = 2.0 * float(train.std())
        return Patches(torch.from_numpy(train / scale), torch.from_numpy(held / scale), True,
                       f"{n} 8x8 patches of scikit-learn's china.jpg (gray, mean removed), {HELDOUT} held out from flower.jpg")  # fmt: skip
    raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")


PARAMS = Params(
    Param("dataset", "digits", str, choices=DATASETS, when=RESET, label="Patches",
          labels={"digits": "8x8 digits", "mnist": "MNIST patches", "natural": "photo patches"},
          help="Whole 8x8 digits (always offline), 8x8 patches of MNIST test images, or of a photograph (mean removed)."),
    Param("lam", 0.1, float, 0.0, 2.0, ticks=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0), label="L1 weight", symbol="λ",
          help="The weight of ||h||₁ in J = ½||x − W h||² + λ||h||₁: larger λ, sparser codes and blurrier reconstructions."),
    Param("solver", "ista", str, choices=SOLVERS, label="Inference", labels={"ista": "ISTA", "fista": "FISTA"},
          help="ISTA: a gradient step and a soft threshold; FISTA adds momentum (faster to the optimum)."),
    Param("n_iter", 10, int, 1, 100, step=1, label="Inference iterations per step",
          help="ISTA / FISTA iterations on every patch's code before each dictionary step (warm-started from the last codes)."),
    Param("rate", 1.0, float, 0.0, 1.0, ticks=(0.0, 0.1, 0.25, 0.5, 1.0), label="Dictionary step × 1/L",
          labels={0.0: "0 (frozen)"}, help="The dictionary's gradient step as a fraction of 1/L, L the largest eigenvalue of hᵀh / n; 0 freezes W."),
    Param("n_atoms", 64, int, choices=(16, 36, 64, 100, 144), when=RESET, label="Atoms (columns of W)",
          help="The dictionary's size; more than 64 is overcomplete for 8x8 patches."),
    Param("n_patches", 512, int, choices=(256, 512, 1024), when=RESET, label="Training patches"),
    Param("seed", 0, int, 0, 9999, when=RESET, label="Seed", help="The random dictionary and the patches drawn."),
)
"""The sparse coding task's parameters (the page's widgets)."""
PRESETS: dict[str, dict[str, Any]] = {
    "small λ: dense codes": {"dataset": "digits", "lam": 0.02, "solver": "fista", "n_iter": 10, "rate": 1.0, "n_atoms": 64, "seed": 0},
    "large λ: sparse codes": {"dataset": "digits", "lam": 0.5, "solver": "fista", "n_iter": 10, "rate": 1.0, "n_atoms": 64, "seed": 0},
    "FISTA against ISTA": {"dataset": "digits", "lam": 0.1, "solver": "fista", "n_iter": 2, "rate": 1.0, "n_atoms": 100, "seed": 0},
}
"""The page's lessons on the 8x8 digits (seed 0, 512 digits). Measured after 200 steps: λ = 0.02 leaves 19% of the
code entries at zero (mean ||h||₁ 10.7, ½||x − W h||² 0.014 per digit), λ = 0.5 92% (||h||₁ 3.5, ½||x − W h||² 0.65).
With 100 atoms, λ = 0.1 and 2 iterations per step, the comparison from h = 0 after 50 iterations leaves ISTA
0.093 above the best objective and FISTA 0.003."""


class SparseCodingTask:
    """Sparse coding, learned live: every step runs ``n_iter`` ISTA or FISTA iterations on every training patch's code
    (warm-started from the last step's) and then one projected gradient step on the dictionary (section 19.3).

    Metrics: the mean objective J = ½||x − W h||² + λ||h||₁ after inference (``objective``) and after the dictionary
    step (``objective_after_w``), the mean ½||x − W h||² (``recon_error``), the fraction of code entries that are zero
    and the mean ||h||₁. Every :data:`COMPARE_EVERY` steps, and whenever λ changes, it also runs ISTA and FISTA from
    h = 0 on :data:`COMPARE_PATCHES` patches with the current dictionary (arrays ``ista_gap`` and ``fista_gap``:
    the objective minus the best value either reached)."""

    PARAMS = PARAMS
    divergence_hint = "lower λ or the dictionary step"

    def __init__(self, root: str | None = None):
        self.root = root

    def shared_data(self) -> tuple:
        """What a copy of this task shares (engine.timeline): the image patches."""
        return (self.patches,)

    def reset(self, params: Mapping[str, Any]) -> None:
        self.patches = load_patches(params["dataset"], params["n_patches"], params["seed"], self.root)
        self.x = self.patches.train
        g = torch.Generator().manual_seed(int(params["seed"]))
        self.w = random_dictionary(self.x.shape[1], params["n_atoms"], g)
        self.h = torch.zeros(self.x.shape[0], params["n_atoms"])
        self.lam = params["lam"]
        self.steps = 0
        self._compare()

    def step(self, params: Mapping[str, Any]) -> dict[str, float]:
        lam = params["lam"]
        self.h = infer_codes(self.x, self.w, lam, params["n_iter"], params["solver"], self.h)
        after_codes = mean_objective(self.x, self.w, self.h, lam)
        if params["rate"] > 0.0:
            self.w = dictionary_step(self.x, self.w, self.h, params["rate"])
        self.steps += 1
        if lam != self.lam or self.steps % COMPARE_EVERY == 0:
            self.lam = lam
            self._compare()
        zeros, l1 = code_sparsity(self.h)
        return {
            "objective": after_codes,
            "objective_after_w": mean_objective(self.x, self.w, self.h, lam),
            "recon_error": float(reconstruction_error(self.x, self.w, self.h).mean()),
            "zero_fraction": zeros,
            "l1": l1,
        }

    def _compare(self) -> None:
        x = self.x[:COMPARE_PATCHES]
        ista = objective_trace(x, self.w, self.lam, COMPARE_ITERATIONS, "ista")
        fista = objective_trace(x, self.w, self.lam, COMPARE_ITERATIONS, "fista")
        best = float(torch.minimum(ista.min(), fista.min()))
        self.ista_gap, self.fista_gap = (ista - best).numpy(), (fista - best).numpy()
        self.compared_at = self.steps

    def state(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.w.clone(), self.h.clone()

    def restore(self, state: tuple[torch.Tensor, torch.Tensor]) -> None:
        self.w, self.h = (t.clone() for t in state)

    def nonfinite(self) -> str | None:
        for name, t in (("W", self.w), ("h", self.h)):
            if not bool(torch.isfinite(t).all()):
                return name
        return None

    def arrays(self) -> dict[str, np.ndarray]:
        shown = self.x[:SHOWN]
        return {
            "dictionary": self.w.numpy().copy(),
            "filters": self.w.T.reshape(-1, PATCH, PATCH).numpy().copy(),
            "patches": shown.reshape(-1, PATCH, PATCH).numpy().copy(),
            "reconstructions": (self.h[:SHOWN] @ self.w.T).reshape(-1, PATCH, PATCH).numpy().copy(),
            "codes": self.h[:SHOWN].numpy().copy(),
            "ista_gap": self.ista_gap.copy(),
            "fista_gap": self.fista_gap.copy(),
            "compared_at": np.array(self.compared_at),
        }
