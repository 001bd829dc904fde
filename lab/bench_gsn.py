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

from engine.models.clamp import clamp_state, region_mask, start_clamped
from engine.models.gsn import build_model, load_model
from lab.views import fit_scale, tile_grid, upscale

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "assets" / "gsn" / "dae_walkback.safetensors"


def _rate(fn: Callable[[], None], seconds: float) -> float:
    fn()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


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


def png_frame(means: np.ndarray, height: int, width: int) -> bytes:
    """One filmstrip frame as the page sends it: tile grid, upscaled to ~700 px, PNG-encoded."""
    grid = tile_grid(means.reshape(-1, height, width), ncols=8)
    buffer = io.BytesIO()
    Image.fromarray(upscale(grid, fit_scale(grid.shape[1], 700))).save(buffer, format="PNG")
    return buffer.getvalue()


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

    torch_rate, numpy_rate = _rate(torch_step, seconds), _rate(numpy_step, seconds)

    mask = torch.as_tensor(region_mask("right", c.height, c.width)).reshape(-1)
    x64 = torch.rand(64, c.n_visible, generator=g)
    film_state = clamp_state(start_clamped(model, x64, mask, g), x64, mask)
    x64_np, mask_np = x64.numpy(), mask.numpy()
    film_np = np.where(mask_np, x64_np, film_state.x.numpy())

    def torch_frame() -> None:
        nonlocal film_state
        film_state = clamp_state(model.chain_step(film_state, g), x64, mask)
        png_frame(film_state.mean.numpy(), c.height, c.width)

    def numpy_frame() -> None:
        nonlocal film_np
        sample, mean = peer.step(film_np)
        film_np = np.where(mask_np, x64_np, sample)
        png_frame(np.where(mask_np, x64_np, mean), c.height, c.width)

    return {
        "model": source,
        "threads": torch.get_num_threads(),
        "chain_steps_per_s_100_chains": {"engine_torch": round(torch_rate, 1), "peer_numpy": round(numpy_rate, 1)},
        "filmstrip_frames_per_s_64_chains": {"engine_torch": round(_rate(torch_frame, seconds), 1), "peer_numpy": round(_rate(numpy_frame, seconds), 1)},
        "filmstrip_png_bytes": len(png_frame(film_state.mean.numpy(), c.height, c.width)),
        "target_frames_per_s": 25,
    }
