"""Plotly stage pictures as files: the figures a stage plot drew, kept, and drawn into pixels when Export asks.

A stage plot that is handed its snapshot's step (``views.stage_plot(..., step=)``) keeps its last
:data:`lab.export.KEPT_FRAMES` distinct figures (their Plotly JSON, a few kB each) in a :class:`FigureRing`. The run
bar's Export menu turns them into pictures only when a download button is pressed: kaleido draws each figure in a
headless Chromium (one browser for the whole batch, about 0.2 s a figure after a 2 s start), and lab.export makes
the PNG with the settings in its text chunk, or the GIF.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
import warnings
from collections import deque
from collections.abc import Sequence

import numpy as np
import plotly.io as pio
from PIL import Image

from lab.export import KEPT_FRAMES

RASTER_SIZE = (960, 640)
"""Width and height, in pixels, of an exported Plotly picture."""
_one_browser = threading.Lock()
"""kaleido keeps one browser per process: one export at a time."""


class FigureRing:
    """The last ``size`` distinct figures a stage plot drew (Plotly JSON), with the step each shows."""

    def __init__(self, size: int = KEPT_FRAMES):
        self.figures: deque[tuple[int, str]] = deque(maxlen=size)

    def add(self, step: int, figure: str) -> None:
        if self.figures and self.figures[-1][1] == figure:
            return
        if self.figures and self.figures[-1][0] == step:
            self.figures[-1] = (step, figure)
        else:
            self.figures.append((step, figure))

    def __len__(self) -> int:
        return len(self.figures)

    def last(self, n: int) -> list[tuple[int, str]]:
        return list(self.figures)[-n:]


def chromium() -> str | None:
    """The Chrome or Chromium kaleido draws with: ``GENLAB_CHROMIUM``, ``BROWSER_PATH``, else the first on the PATH."""
    for name in (os.environ.get("GENLAB_CHROMIUM"), os.environ.get("BROWSER_PATH"), "chromium", "chromium-browser", "google-chrome", "chrome"):
        if name and (path := shutil.which(name)):
            return path
    return None


def rasterize(figures: Sequence[str]) -> list[np.ndarray]:
    """Each figure (Plotly JSON) as an RGB uint8 picture of :data:`RASTER_SIZE`, drawn by kaleido in one Chromium.
    Raises RuntimeError, saying what to install, when there is no Chromium."""
    import kaleido

    browser = chromium()
    if browser is None:
        raise RuntimeError("exporting a Plotly picture needs Chrome or Chromium (apt install chromium, or set GENLAB_CHROMIUM)")
    width, height = RASTER_SIZE
    with _one_browser:
        os.environ["BROWSER_PATH"] = browser
        kaleido.start_sync_server(silence_warnings=True)
        try:
            with warnings.catch_warnings():  # plotly notes that its per-call browser options do not reach a running server
                warnings.filterwarnings("ignore", message="The kopts argument is ignored", category=UserWarning)
                pngs = [pio.to_image(pio.from_json(figure, skip_invalid=True), format="png", width=width, height=height) for figure in figures]
        finally:
            kaleido.stop_sync_server(silence_warnings=True)
    return [np.asarray(Image.open(io.BytesIO(png)).convert("RGB")) for png in pngs]
