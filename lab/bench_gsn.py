"""Speed of the DAE chain and of the clamped-sampling filmstrip, against a plain NumPy peer.

- chain steps/s for 100 parallel chains: the engine's torch step vs the same step
  (salt-and-pepper corruption, sigmoid encoder, Bernoulli decoder, sample) in NumPy;
- filmstrip redraw rate with 64 chains: one clamped chain step, the frame laid out as a
  tile grid, upscaled and encoded to PNG as ``st.image`` does on the page (Pillow).
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
from lab.gsn_views import clamped_tiles, filmstrip
from lab.views import tile_grid

FILM = 10
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "assets" / "gsn" / "dae_walkback.safetensors"


def _rate(fn: Callable[[], None], seconds: float) -> float:
    fn()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def _peer_rate(fn: Callable[[], None], seconds: float) -> float:
    with threadpool_limits(torch.get_num_threads()):
        return _rate(fn, seconds)


class NumpyDAEChain:
    """The DAE chain step in plain NumPy (float32), the peer of ``DAE.chain_step``."""

    def __init__(self, model, seed: int = 0):
        self.W = model.W.detach().numpy().astype(np.float32)
        self.b = model.b.detach().numpy().astype(np.float32)
        self.c = model.c.detach().numpy().astype(np.float32)
        self.level = model.config.noise
        self.rng = np.random.default_rng(seed)

    def step(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hit = self.rng.random(x.shape, dtype=np.float32) < self.level
        coin = (self.rng.random(x.shape, dtype=np.float32) < 0.5).astype(np.float32)
        x_tilde = np.where(hit, coin, x)
        h = 1.0 / (1.0 + np.exp(-(x_tilde @ self.W + self.c)))
        mean = 1.0 / (1.0 + np.exp(-(h @ self.W.T + self.b)))
        return (self.rng.random(x.shape, dtype=np.float32) < mean).astype(np.float32), mean


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


def run_benchmarks(path: str | None, seconds: float) -> dict:
    torch.manual_seed(0)
    checkpoint = Path(path) if path else DEFAULT_CHECKPOINT
    if checkpoint.exists():
        model, _ = load_model(checkpoint)
        source = str(checkpoint)
    else:
        model, source = build_model("dae", 28, 28, torch.Generator().manual_seed(0)), "random 28x28 DAE (no checkpoint found)"
    c = model.config
    g = torch.Generator().manual_seed(0)
    peer = NumpyDAEChain(model)

    state = model.init_chain(torch.bernoulli(torch.full((100, c.n_visible), 0.5), generator=g))
    x_np = state.x.numpy().copy()

    def torch_step() -> None:
        nonlocal state
        state = model.chain_step(state, g)

    def numpy_step() -> None:
        nonlocal x_np
        x_np, _ = peer.step(x_np)

    torch_rate = _rate(torch_step, seconds)
    with threadpool_limits(torch.get_num_threads()):  # the peer gets as many BLAS threads as torch
        numpy_rate = _rate(numpy_step, seconds)

    mask_2d = region_mask("right", c.height, c.width)
    mask = torch.as_tensor(mask_2d).reshape(-1)
    x64 = torch.rand(64, c.n_visible, generator=g)
    film_state = clamp_state(start_clamped(model, x64, mask, g), x64, mask)
    x64_np, mask_np = x64.numpy(), mask.numpy()
    film_np = np.where(mask_np, x64_np, film_state.x.numpy())
    shape = (64, c.height, c.width)
    film: list[np.ndarray] = [film_state.mean.numpy().reshape(shape)] * FILM
    film_peer = list(film)

    def torch_frame() -> None:
        nonlocal film_state
        film_state = clamp_state(model.chain_step(film_state, g), x64, mask)
        film.append(film_state.mean.numpy().reshape(shape))
        del film[:-FILM]
        page_frame(film, mask_2d)

    def numpy_frame() -> None:
        nonlocal film_np
        sample, mean = peer.step(film_np)
        film_np = np.where(mask_np, x64_np, sample)
        film_peer.append(np.where(mask_np, x64_np, mean).reshape(shape))
        del film_peer[:-FILM]
        naive_frame(film_peer, mask_2d)

    return {
        "model": source,
        "threads": torch.get_num_threads(),
        "chain_steps_per_s_100_chains": {"engine_torch": round(torch_rate, 1), "peer_numpy": round(numpy_rate, 1)},
        "filmstrip_frames_per_s_64_chains": {
            "engine_torch_palette_png": round(_rate(torch_frame, seconds), 1),
            "peer_numpy_rgb_png_default": round(_peer_rate(numpy_frame, seconds), 1),
        },
        "bytes_per_frame": {"engine": page_frame(film, mask_2d), "peer": naive_frame(film_peer, mask_2d)},
        "target_frames_per_s": 25,
    }
