"""Saving what the stage shows (NumPy and Pillow only): the live picture as a PNG that carries its settings in a
text chunk, and its recent frames as an animated GIF.

A live panel keeps the last :data:`KEPT_FRAMES` pictures it drew in a :class:`FrameRing`; the run bar's Export
menu turns them into files only when asked (the download buttons call :func:`settings_png` and :func:`frames_gif`).
"""

from __future__ import annotations

import io
import json
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

from lab.pictures import fit_scale, to_uint8, upscale

KEPT_FRAMES = 60
SETTINGS_KEY = "genlab-settings"
"""The PNG text chunk holding the settings, as JSON."""
EXPORT_WIDTH = 640
"""Exported pictures are upscaled (nearest neighbour, by a whole factor) to about this width."""


class FrameRing:
    """The last ``size`` distinct pictures a live panel drew, with the step each shows."""

    def __init__(self, size: int = KEPT_FRAMES):
        self.frames: deque[tuple[int, np.ndarray]] = deque(maxlen=size)

    def add(self, step: int, picture: np.ndarray) -> None:
        if self.frames and self.frames[-1][0] == step:
            self.frames[-1] = (step, picture)
        else:
            self.frames.append((step, picture))

    def __len__(self) -> int:
        return len(self.frames)

    def latest(self) -> tuple[int, np.ndarray] | None:
        return self.frames[-1] if self.frames else None

    def last(self, n: int) -> list[tuple[int, np.ndarray]]:
        """The last ``n`` frames (fewer when fewer were drawn) that have the latest frame's size."""
        if not self.frames:
            return []
        shape = self.frames[-1][1].shape
        same = [f for f in self.frames if f[1].shape == shape]
        return same[-n:]


def _json_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return value


def settings_text(settings: Mapping[str, Any]) -> str:
    """The settings as JSON (arrays and tuples as lists, anything else by its string)."""
    return json.dumps({k: _json_value(v) for k, v in settings.items()}, default=str, sort_keys=True)


def _exported(picture: np.ndarray) -> np.ndarray:
    picture = to_uint8(picture)
    return upscale(picture, fit_scale(picture.shape[1], EXPORT_WIDTH))


def settings_png(picture: np.ndarray, settings: Mapping[str, Any]) -> bytes:
    """``picture`` upscaled to about :data:`EXPORT_WIDTH` px, as PNG, with ``settings`` in its text chunk ``genlab-settings``."""
    info = PngImagePlugin.PngInfo()
    info.add_text(SETTINGS_KEY, settings_text(settings))
    buf = io.BytesIO()
    Image.fromarray(_exported(picture)).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def frames_gif(frames: Sequence[np.ndarray], fps: float = 10.0, settings: Mapping[str, Any] | None = None) -> bytes:
    """The pictures as an endlessly looping GIF at ``fps`` frames per second (the settings go in its comment)."""
    if not frames:
        raise ValueError("no frames to save: play or step the run first")
    images = [Image.fromarray(_exported(f)) for f in frames]
    buf = io.BytesIO()
    extra = {"comment": settings_text(settings).encode()} if settings else {}
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0, disposal=1, **extra)
    return buf.getvalue()
