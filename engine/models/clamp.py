"""Clamped (conditional) sampling with a DAE or GSN chain: inpainting, as in Figure 20.12.

Book section 20.11.2: to sample x_free given x_clamped, run the Markov chain but after
every step put the clamped pixels back to their observed values; only the free pixels
are resampled. The chain then samples (approximately) from p(x_free | x_clamped).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.models.dae import ChainState

REGIONS = ("right", "left", "top", "bottom", "square")
"""Named clamped regions: the half that is *kept* (clamped), or a centred square that is kept."""


def region_mask(region: str, height: int, width: int) -> np.ndarray:
    """Boolean (height, width) mask, True where pixels are clamped.

    ``right``/``left``/``top``/``bottom``: that half is clamped and the other half is
    resampled. ``square``: everything is clamped except a centred square of half the
    side, which is resampled (fill in a hole).
    """
    mask = np.zeros((height, width), dtype=bool)
    if region == "right":
        mask[:, width // 2 :] = True
    elif region == "left":
        mask[:, : width - width // 2] = True
    elif region == "top":
        mask[: height - height // 2, :] = True
    elif region == "bottom":
        mask[height // 2 :, :] = True
    elif region == "square":
        mask[:] = True
        sh, sw = max(1, height // 2), max(1, width // 2)
        top, left = (height - sh) // 2, (width - sw) // 2
        mask[top : top + sh, left : left + sw] = False
    else:
        raise ValueError(f"region must be one of {', '.join(REGIONS)}, got {region!r}")
    return mask


def check_mask(mask: np.ndarray | torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The mask as a flat bool tensor (D,); ValueError for a wrong shape, an empty or a full mask."""
    m = torch.as_tensor(np.asarray(mask)).bool()
    if tuple(m.shape) not in ((height, width), (height * width,)):
        raise ValueError(f"mask has shape {tuple(m.shape)}; the model's images are {height}x{width} (or {height * width} flat)")
    m = m.reshape(-1)
    if not bool(m.any()):
        raise ValueError("mask is empty: clamp at least one pixel (or run the free chain instead)")
    if bool(m.all()):
        raise ValueError("mask clamps every pixel: leave at least one pixel free to resample")
    return m


def check_images(x: np.ndarray | torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Images as a float (N, D) tensor; ValueError unless they are (N, H, W), (H, W), (N, D) or (D,) of the model's size."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    d = height * width
    if t.ndim == 1 and t.shape[0] == d or t.ndim == 2 and tuple(t.shape) == (height, width):
        t = t.reshape(1, d)
    elif t.ndim == 3 and tuple(t.shape[1:]) == (height, width):
        t = t.reshape(len(t), d)
    elif not (t.ndim == 2 and t.shape[1] == d):
        raise ValueError(f"images have shape {tuple(t.shape)}; the model's images are {height}x{width} ({d} pixels)")
    if len(t) == 0:
        raise ValueError("no images given: pass at least one image to clamp")
    if not bool(torch.isfinite(t).all()) or float(t.min()) < 0 or float(t.max()) > 1:
        raise ValueError("image values must be finite and in [0, 1]")
    return t


@dataclass(frozen=True)
class ClampedChain:
    """Every frame of a clamped chain: ``samples`` and ``means`` are (n_steps + 1, N, D); frame 0 is the start."""

    samples: torch.Tensor
    means: torch.Tensor
    mask: torch.Tensor


def start_clamped(model, x: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None = None, init: str = "noise") -> ChainState:
    """Initial state: clamped pixels from x; free pixels fair coins (``noise``), from x (``data``) or 0 (``blank``)."""
    if init == "noise":
        free = (torch.rand(x.shape, generator=generator, device=x.device) < 0.5).to(x.dtype)
    elif init == "data":
        free = x
    elif init == "blank":
        free = torch.zeros_like(x)
    else:
        raise ValueError(f"init must be noise, data or blank, got {init!r}")
    start = torch.where(mask, x, free)
    return model.init_chain(start)


def clamp_state(state: ChainState, x: torch.Tensor, mask: torch.Tensor) -> ChainState:
    """Put the clamped pixels back to x in both the sample and the displayed means."""
    return ChainState(x=torch.where(mask, x, state.x), mean=torch.where(mask, x, state.mean), h=state.h)


def sample_clamped(
    model,
    x: np.ndarray | torch.Tensor,
    mask: np.ndarray | torch.Tensor,
    n_steps: int,
    *,
    noise: float | None = None,
    generator: torch.Generator | None = None,
    init: str = "noise",
) -> ClampedChain:
    """Run the chain of ``model`` (DAE or GSN) for ``n_steps`` with the pixels where ``mask`` is True
    clamped to ``x`` in every frame; returns every frame (the start included)."""
    c = model.config
    images = check_images(x, c.height, c.width).to(model.b.device)
    m = check_mask(mask, c.height, c.width).to(model.b.device)
    if not 0 <= int(n_steps) <= 100000:
        raise ValueError(f"n_steps must be between 0 and 100000, got {n_steps}")
    state = clamp_state(start_clamped(model, images, m, generator, init), images, m)
    samples, means = [state.x], [state.mean]
    for _ in range(int(n_steps)):
        state = clamp_state(model.chain_step(state, generator, noise), images, m)
        samples.append(state.x)
        means.append(state.mean)
    return ClampedChain(torch.stack(samples), torch.stack(means), m)
