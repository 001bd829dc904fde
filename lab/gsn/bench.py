"""Speed of the DAE / GSN chain and of the clamped-sampling filmstrip, against a plain NumPy peer.

The peer runs the *same* chain as the checkpoint it is given (see :class:`NumpyChain`): the
model's own corruption kind and level, a DAE's one sigmoid hidden layer, or a GSN's two noisy
sigmoid layers with its top layer h2 carried from step to step.

- chain steps/s for N parallel chains (default 100): one ``model.chain_step`` in torch vs one
  ``NumpyChain.step``; nothing is drawn;
- filmstrip redraw rate with 64 chains: one clamped chain step, then the two pictures the
  clamped page sends per redraw (the 8 x 8 grid of current means and the filmstrip of 8 chains
  over the last 10 frames) laid out and PNG-encoded (Pillow). Streamlit's transport and the
  browser's decoding are not timed, nor is the static strip of true digits.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from threadpoolctl import threadpool_limits

from engine.models.clamp import clamp_state, region_mask, start_clamped
from engine.models.gsn import build_model, load_model
from engine.tasks.gsn import GSNTrainTask
from lab.gsn.pictures import clamped_tiles, filmstrip
from lab.pictures import tile_grid
from lab.run_vs_loop import run_vs_loop

FILM = 10
FILM_CHAINS = 64
TARGET_FRAMES_PER_S = 25.0
DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "assets" / "gsn" / "dae_walkback.safetensors"


def _rate(fn: Callable[[], None], seconds: float) -> float:
    fn()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def _peer_rate(fn: Callable[[], None], seconds: float) -> float:
    with threadpool_limits(torch.get_num_threads()):  # the peer gets as many BLAS threads as torch
        return _rate(fn, seconds)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-z) overflows to inf for z < -88: the sigmoid is then 0, as it should be
        return 1.0 / (1.0 + np.exp(-z))


class NumpyChain:
    """One step of a DAE's or a GSN's chain in plain NumPy (float32), the peer of ``model.chain_step``.

    DAE (``engine.models.dae``): x~ ~ C(x~ | x), h = sigm(x~ W + c), p(x | h) = Bernoulli(sigm(h W^T + b)).
    GSN (``engine.models.gsn``): x~ ~ C(x~ | x), h1 = sigm(x~ W1 + h2 W2^T + c1 + s e1) + s e2,
    h2' = sigm(h1 W2 + c2 + s e3) + s e4, p(x | h1) = Bernoulli(sigm(h1 W1^T + b)), s = hidden noise.
    C is the model's own corruption (salt_pepper, masking or gaussian) at its own level.
    """

    def __init__(self, model, seed: int = 0):
        c = model.config
        self.kind = model.kind
        self.corruption, self.level = c.corruption, float(c.noise)
        self.hidden_noise = float(getattr(c, "hidden_noise", 0.0))
        t = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.tensors().items()}
        if self.kind == "dae":
            self.W, self.b, self.c = t["W"], t["b"], t["c"]
        elif self.kind == "gsn":
            self.W1, self.W2, self.b, self.c1, self.c2 = t["W1"], t["W2"], t["b"], t["c1"], t["c2"]
        else:
            raise ValueError(f"the NumPy peer runs a dae or a gsn chain, not {self.kind!r}")
        self.rng = np.random.default_rng(seed)

    def init_h(self, n: int) -> np.ndarray | None:
        """The carried latent state of n fresh chains: a GSN's h2 starts at 0; a DAE carries none."""
        return np.zeros((n, self.W2.shape[1]), np.float32) if self.kind == "gsn" else None

    def corrupt(self, x: np.ndarray, level: float) -> np.ndarray:
        """x~ ~ C(x~ | x), as ``engine.models.corruption.corrupt``."""
        if level == 0:
            return x
        if self.corruption == "gaussian":
            return x + np.float32(level) * self.rng.standard_normal(x.shape, dtype=np.float32)
        hit = self.rng.random(x.shape, dtype=np.float32) < level
        if self.corruption == "masking":
            return np.where(hit, np.float32(0), x)
        coin = (self.rng.random(x.shape, dtype=np.float32) < 0.5).astype(np.float32)
        return np.where(hit, coin, x)

    def _noisy_sigmoid(self, pre: np.ndarray) -> np.ndarray:
        s = self.hidden_noise
        if s == 0:
            return _sigmoid(pre)
        e = self.rng.standard_normal((2, *pre.shape), dtype=np.float32)
        return _sigmoid(pre + s * e[0]) + s * e[1]

    def step(self, x: np.ndarray, h: np.ndarray | None = None, noise: float | None = None):
        """(x', Bernoulli means, carried h) after one chain step from (x, h); ``noise`` overrides the level."""
        x_tilde = self.corrupt(x, self.level if noise is None else noise)
        if self.kind == "dae":
            hidden = _sigmoid(x_tilde @ self.W + self.c)
            mean, h_next = _sigmoid(hidden @ self.W.T + self.b), None
        else:
            h2 = self.init_h(len(x)) if h is None else h
            h1 = self._noisy_sigmoid(x_tilde @ self.W1 + h2 @ self.W2.T + self.c1)
            h_next = self._noisy_sigmoid(h1 @ self.W2 + self.c2)
            mean = _sigmoid(h1 @ self.W1.T + self.b)
        sample = (self.rng.random(x.shape, dtype=np.float32) < mean).astype(np.float32)
        return sample, mean, h_next


def page_frame(film: list[np.ndarray], mask: np.ndarray | None) -> int:
    """What the clamped page sends per redraw: the 64 chains (8 x 8 grid) and the filmstrip of 8 of them over
    the last 10 frames, as palette PNGs; returns the bytes sent."""
    current = film[-1]
    strip = np.stack(film[-FILM:])
    return len(clamped_tiles(current, mask, 8, scale=4)) + len(filmstrip(strip, mask, rows=8, scale=3))


def naive_frame(film: list[np.ndarray], mask: np.ndarray) -> int:
    """The peer's redraw: the same two pictures as RGB arrays, PNG-encoded with Pillow's defaults (what st.image
    does with an array)."""
    sent = 0
    current, strip = film[-1], np.stack(film[-FILM:])
    for images, ncols, scale in ((current, 8, 4), (strip[:, :8].transpose(1, 0, 2, 3).reshape(-1, *current.shape[1:]), len(strip), 3)):
        v = np.clip(images, 0, 1)[..., None]
        rgb = np.where(mask[None, :, :, None], np.repeat(v * 255, 3, -1), (1 - v) * [22, 32, 80] + v * [255, 214, 90]).astype(np.uint8)
        grid = np.stack([tile_grid(rgb[..., k], ncols=ncols, pad=2, scale=scale) for k in range(3)], -1)
        buffer = io.BytesIO()
        Image.fromarray(grid).save(buffer, format="PNG")
        sent += buffer.tell()
    return sent


def _describe(model) -> dict:
    c = model.config
    chain = {"kind": model.kind, "corruption": c.corruption, "noise": c.noise, "height": c.height, "width": c.width}
    if model.kind == "gsn":
        chain.update(n_hidden1=c.n_hidden1, n_hidden2=c.n_hidden2, hidden_noise=c.hidden_noise)
    else:
        chain.update(n_hidden=c.n_hidden)
    return chain


def run_benchmarks(path: str | None, seconds: float, chains: int = 100) -> dict:
    """Time the engine's chain and clamped redraw against the NumPy peer running the same chain.

    ``path``: a DAE or GSN checkpoint (CheckpointError if it is missing); None: the pretrained walkback DAE,
    or a random 28x28 DAE when the assets are absent.
    """
    if not chains >= 1:
        raise ValueError(f"chains must be at least 1, got {chains}")
    if not seconds > 0:
        raise ValueError(f"seconds must be above zero, got {seconds}")
    torch.manual_seed(0)
    if path is not None:
        model, _ = load_model(path)
        source = str(path)
    elif DEFAULT_CHECKPOINT.exists():
        model, _ = load_model(DEFAULT_CHECKPOINT)
        source = str(DEFAULT_CHECKPOINT)
    else:
        model, source = build_model("dae", 28, 28, torch.Generator().manual_seed(0)), "random 28x28 DAE (no checkpoint in assets/gsn)"
    model.eval()
    c = model.config
    g = torch.Generator().manual_seed(0)
    peer = NumpyChain(model)

    state = model.init_chain(torch.bernoulli(torch.full((chains, c.n_visible), 0.5), generator=g))
    x_np, h_np = state.x.numpy().copy(), peer.init_h(chains)

    def torch_step() -> None:
        nonlocal state
        state = model.chain_step(state, g)

    def numpy_step() -> None:
        nonlocal x_np, h_np
        x_np, _, h_np = peer.step(x_np, h_np)

    torch_rate = _rate(torch_step, seconds)
    numpy_rate = _peer_rate(numpy_step, seconds)

    mask_2d = region_mask("right", c.height, c.width)
    mask = torch.as_tensor(mask_2d).reshape(-1)
    x64 = torch.rand(FILM_CHAINS, c.n_visible, generator=g)
    film_state = clamp_state(start_clamped(model, x64, mask, g), x64, mask)
    x64_np, mask_np = x64.numpy(), mask.numpy()
    film_np, film_h = film_state.x.numpy().copy(), peer.init_h(FILM_CHAINS)
    shape = (FILM_CHAINS, c.height, c.width)
    film: list[np.ndarray] = [film_state.mean.numpy().reshape(shape)] * FILM
    film_peer = list(film)

    def torch_frame() -> None:
        nonlocal film_state
        film_state = clamp_state(model.chain_step(film_state, g), x64, mask)
        film.append(film_state.mean.numpy().reshape(shape))
        del film[:-FILM]
        page_frame(film, mask_2d)

    def numpy_frame() -> None:
        nonlocal film_np, film_h
        sample, mean, film_h = peer.step(film_np, film_h)
        film_np = np.where(mask_np, x64_np, sample)
        film_peer.append(np.where(mask_np, x64_np, mean).reshape(shape))
        del film_peer[:-FILM]
        naive_frame(film_peer, mask_2d)

    engine_fps, peer_fps = _rate(torch_frame, seconds), _peer_rate(numpy_frame, seconds)
    live = run_vs_loop(GSNTrainTask, {"dataset": "digits"})
    return {
        "model": source,
        "chain": _describe(model),
        "threads": torch.get_num_threads(),
        "seconds_per_measurement": seconds,
        "chains": chains,
        "chain_steps_per_s": {"engine_torch": round(torch_rate, 1), "peer_numpy": round(numpy_rate, 1)},
        "film_chains": FILM_CHAINS,
        "filmstrip_frames_per_s": {
            "engine_torch_palette_png": round(engine_fps, 1),
            "peer_numpy_rgb_png_default": round(peer_fps, 1),
        },
        "bytes_per_frame": {"engine": page_frame(film, mask_2d), "peer": naive_frame(film_peer, mask_2d)},
        "target_frames_per_s": TARGET_FRAMES_PER_S,
        "engine_meets_target": bool(engine_fps >= TARGET_FRAMES_PER_S),
        "peer_meets_target": bool(peer_fps >= TARGET_FRAMES_PER_S),
        "live_run": {"task": "GSNTrainTask on the 8x8 digits every machine has, the training page's other defaults", **live},
        "timed": {
            "chain_steps": f"one chain step of all {chains} chains on the CPU: corrupt x with the model's corruption, "
            + ("the hidden layer" if model.kind == "dae" else "both noisy hidden layers (h2 carried)")
            + ", the Bernoulli means, a sample x'; engine: model.chain_step (torch), peer: NumpyChain.step; nothing drawn",
            "filmstrip_frames": f"one redraw of the clamped page with {FILM_CHAINS} chains (right half clamped): one clamped "
            "chain step, then the 8 x 8 grid of current means and the filmstrip (8 chains x the last 10 frames) laid out "
            "and PNG-encoded; engine: palette PNG at zlib level 1, peer: RGB PNG at Pillow's default. Not timed: "
            "Streamlit's transport, the browser's decoding, the static strip of true digits",
            "target": f"engine_meets_target / peer_meets_target: the measured filmstrip frames/s >= {TARGET_FRAMES_PER_S:g}",
        },
    }
