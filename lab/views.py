"""Drawing on a page: pictures (lab.pictures) and figures (lab.figures), the figures updated in place
(lab.plot_in_place), on the stage or as charts under it.

Everything here only draws; nothing here computes model math. In a live panel a picture goes to the browser
as raw pixels and is drawn on a canvas (lab.frames); a still picture, or any picture with ``?renderer=png``,
is a PNG through ``st.image``. Either way it is sent at its own size and the browser upscales it
nearest-neighbour, so a projector shows crisp pixels.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from engine.run import Snapshot
from lab import frames, live
from lab.figures import FONT_SIZE, curves, histogram, scatter, style
from lab.pictures import PALETTE, fit_scale, png_bytes, strip, tile_grid, to_uint8, upscale
from lab.plot_in_place import Click, keep_figure_maker, plot_in_place

__all__ = ["Click", "FONT_SIZE", "PALETTE", "crisp_pixels", "curves", "fit_scale", "histogram", "number", "plot", "plot_in_place", "png_bytes", "run_plot", "scatter", "show_frames", "show_image", "stage_plot",
           "staged", "strip", "style", "tile_grid", "to_uint8", "upscale"]  # fmt: skip
"""The page-facing names: a page draws with ``views.*`` alone."""


def crisp_pixels() -> None:
    """Let the browser upscale pictures nearest-neighbour, so small PNGs stay sharp at any size, and never wider than their column
    (the app sets it on every page)."""
    st.html(
        "<style>[data-testid='stImage'] img {image-rendering: pixelated; max-width: 100%; height: auto;}"
        " [data-testid='stImageContainer'] {max-width: 100%;}</style>"
    )


def beside(spec: int | Sequence[float], **columns: Any) -> list[DeltaGenerator]:
    """Columns for a live picture and the pictures that go with it (``spec`` and ``columns`` as ``st.columns``'). Drawing
    one side of a compared pair, which has half the width, they come one under the other instead, so the main picture
    keeps the side's whole width (and stays on the first screen) and the others follow under it."""
    batch = live.drawing()
    if batch is not None and batch.part is not None:
        return [st.container() for _ in range(spec if isinstance(spec, int) else len(spec))]
    return st.columns(spec, **columns)


def show_image(picture: np.ndarray, caption: str | None = None, target_width: int = 560) -> None:
    """Draw a picture at about ``target_width`` pixels (an integer multiple of its own width).

    In a live panel it is the latest frame of a canvas (lab.frames); elsewhere, or with ``?renderer=png``, a PNG
    through ``st.image``, which the browser upscales (:func:`crisp_pixels`).
    """
    picture = to_uint8(picture)
    width = picture.shape[1] * fit_scale(picture.shape[1], target_width)
    batch = live.drawing()
    if batch is not None and batch.renderer == "canvas":
        if not batch.fresh:
            frames.keep(batch.slot())
            return
        snap = batch.snapshots[-1]
        frames.show([frames.Frame(snap.step, picture, snap.time, caption or "")], slot=batch.slot(), width=width)
        return
    # output_format="PNG": with "auto", Streamlit decodes the bytes and re-encodes a gray picture as JPEG
    st.image(png_bytes(picture), caption=caption, width=width, output_format="PNG")


def show_frames(picture_of: Callable[[Snapshot], np.ndarray], snap: Snapshot, caption: Callable[[Snapshot], str] | str = "", target_width: int = 560) -> np.ndarray | None:
    """Draw a live picture of ``snap`` and, in a live panel, of every snapshot published since its last redraw,
    which the browser plays at the pace the run made them (a chain shows every step). Returns the latest picture.

    ``picture_of`` turns one snapshot into its picture (uint8); ``caption`` is a text or a snapshot's text (its
    step, say), shown with each frame. Outside a live panel, or with ``?renderer=png``, only ``snap``'s picture
    is drawn, like :func:`show_image`. Returns None when nothing is new since the panel's last batch.
    """
    caption_of = caption if callable(caption) else (lambda _: caption)
    batch = live.drawing()
    if batch is None or batch.renderer != "canvas":
        picture = to_uint8(picture_of(snap))
        show_image(picture, caption_of(snap), target_width)
        return picture
    if not batch.fresh:
        frames.keep(batch.slot())
        return None
    pictures = [frames.Frame(s.step, to_uint8(picture_of(s)), s.time, caption_of(s)) for s in batch.snapshots]
    latest = pictures[-1].pixels
    live.made(lambda s: to_uint8(picture_of(s)), latest)
    pictures = [p for p in pictures if p.pixels.shape == latest.shape]  # a setting changed the picture's size: its new frames only
    frames.show(pictures, slot=batch.slot(), width=latest.shape[1] * fit_scale(latest.shape[1], target_width), at_once=batch.at_once)
    return latest


def number(value: float | None, spec: str = ".2f") -> str:
    """A metric as the page shows it: "—" while there is none yet (before the first step), never "nan"."""
    return "—" if value is None or not math.isfinite(value) else format(value, spec)


CHART_SUFFIX = ".chart"
"""Ends the key of every chart drawn by :func:`plot`, which tells charts from stage pictures (tests read both)."""
_png_charts = itertools.count()


def plot(fig: go.Figure, key: str) -> None:
    """Draw a Plotly chart across the container's width, at its own height, redrawn in place under ``key``
    (lab.plot_in_place): a live page's curves update without a remount, so the page keeps its height while a run
    plays. With ``?renderer=png`` (the old path) each drawing is a new ``st.plotly_chart``, since its bursts draw
    several versions into one slot in one script run."""
    if frames.renderer() == "png":
        st.plotly_chart(fig, key=f"{key}.{next(_png_charts)}", width="stretch", config={"displaylogo": False})
        return
    plot_in_place(fig, key + CHART_SUFFIX)


def staged(fig: go.Figure) -> go.Figure:
    """A figure laid out for the stage: its own height dropped (lab.stage's CSS sizes the plot), axes tied by
    ``scaleanchor`` shrinking their domain to keep the aspect ratio instead of widening their range, so what the
    figure spans (a grid of click targets, a heatmap) fills the drawn area."""
    fig.update_layout(height=None, autosize=True)
    fig.update_xaxes(constrain="domain")
    fig.update_yaxes(constrain="domain")
    return fig


def stage_plot(fig: go.Figure, key: str, on_click: Callable[[Click], None] | None = None, step: int | None = None) -> None:
    """Draw a Plotly figure as a stage picture, updated in place under ``key`` (lab.plot_in_place): as high as the
    window leaves under the title and run bar (lab.stage's CSS sizes it, at any zoom), across the container's width
    (:func:`staged`). ``on_click`` gets the point clicked; a ``step`` (the snapshot's) keeps the figure for the run
    bar's Export."""
    with st.container(key=f"stage-plot-{key}"):
        plot_in_place(staged(fig), key, on_click, step)


def run_plot(figure_of: Callable[[Snapshot], go.Figure], snap: Snapshot, key: str) -> None:
    """A run's stage plot (:func:`stage_plot`): ``figure_of(snap)``, kept with its step for the run bar's Export,
    which also draws every moment the run kept with ``figure_of`` (the timeline's GIF)."""
    stage_plot(figure_of(snap), key, step=snap.step)
    keep_figure_maker(key, lambda s: staged(figure_of(s)))
