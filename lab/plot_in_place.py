"""Plotly stage pictures updated in place: one plot per key, redrawn with ``Plotly.react``.

``st.plotly_chart`` mounts a new plot for every new figure and hides it until it has measured its width, so a
picture redrawn a few times a second went blank now and then (measured on Streamlit 1.67: 6-15 hidden frames
in 6 s of play on the EM, a·b game and gradient pages). This component keeps one ``<div>`` per key for the life
of the page and hands each new figure to ``Plotly.react``, which changes only what differs: no remount, no blank
frame, the axes and the drawing area stay where they are.

The browser loads Plotly once per page from the lab's own server: the plotly package's ``plotly.min.js``,
copied into ``lab/static`` (:func:`serve_plotly`) and served by Streamlit's static file serving
(``server.enableStaticServing``, which ``genlab`` sets). Clicks on the plot come back as the ``click`` trigger
(:class:`Click`): the nearest point of the trace under the pointer, as Plotly reports it. Plotly does not wrap
titles: one wider than its plot (a long title in a half-width chart) is set smaller in the browser until it fits.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import plotly
import plotly.graph_objects as go
import streamlit as st

from engine.run import Snapshot
from lab.plot_export import FigureRing

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Streamlit serves the files here at ``app/static/`` (next to lab/app.py, the entry point)."""
PLOTLY_JS = "plotly.min.js"
CONFIG = {"displaylogo": False, "modeBarButtons": [["toImage"]], "responsive": True}
"""Plotly's options: the one button it shows (on hover) saves the picture as a PNG, at twice the size on screen."""


@dataclass(frozen=True)
class Click:
    """A click on a plot: the point Plotly picked (trace ``curve``, index ``index`` in it) at data coordinates
    (``x``, ``y``), with the trace's ``customdata`` for that point (None where it has none)."""

    x: float
    y: float
    curve: int
    index: int
    customdata: object = None


@functools.cache
def serve_plotly() -> Path:
    """Copy the installed plotly package's browser bundle into :data:`STATIC_DIR` (once per process, and only when
    it differs from the copy there), so the browser loads the Plotly that matches the figures' JSON."""
    source = Path(plotly.__file__).resolve().parent / "package_data" / PLOTLY_JS
    target = STATIC_DIR / PLOTLY_JS
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        STATIC_DIR.mkdir(exist_ok=True)
        shutil.copyfile(source, target)
    return target


PLOT_JS = """
const loadPlotly = () => {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!window.__genlabPlotly) {
        window.__genlabPlotly = new Promise((resolve, reject) => {
            const script = document.createElement('script');
            script.src = new URL('app/static/PLOTLY_JS', document.baseURI).href;
            script.onload = () => resolve(window.Plotly);
            script.onerror = () => { window.__genlabPlotly = null; reject(new Error('Plotly did not load')); };
            document.head.appendChild(script);
        });
    }
    return window.__genlabPlotly;
};

const MIN_TITLE_PX = 11;
const fitTitles = (div) => {  // Plotly does not wrap a title: one that sticks out of its plot is set smaller until it fits
    const plot = div.getBoundingClientRect();
    for (const title of div.querySelectorAll('.gtitle')) {
        for (let tries = 0; tries < 4; tries += 1) {  // a left-anchored title fits at once, a centred one shrinks from both ends
            const box = title.getBoundingClientRect();
            const over = Math.max(plot.left - box.left, box.right - plot.right) + 4;
            const size = parseFloat(title.style.fontSize);
            if (over <= 4 || box.width <= 0 || size <= MIN_TITLE_PX) break;
            title.style.fontSize = `${Math.max(MIN_TITLE_PX, Math.floor(size * (box.width - over) / box.width))}px`;
        }
    }
};

export default function ({ data, parentElement, setTriggerValue }) {
    let view = parentElement.__genlabPlot;
    if (!view) {
        const div = document.createElement('div');
        div.className = 'genlab-plot';
        parentElement.replaceChildren(div);
        view = parentElement.__genlabPlot = { div, clicks: false, drawn: 0 };
        new ResizeObserver(() => {
            if (window.Plotly && view.drawn) window.Plotly.Plots.resize(div).then(() => fitTitles(div));
        }).observe(div);
    }
    view.latest = data;
    loadPlotly().then((Plotly) => {
        if (view.latest !== data) return;  // a newer figure came while Plotly loaded: draw that one
        const figure = JSON.parse(data.figure);
        return Plotly.react(view.div, figure.data, figure.layout, data.config).then(() => {
            fitTitles(view.div);
            view.drawn += 1;
            view.div.dataset.drawn = view.drawn;
            if (data.clickable && !view.clicks) {
                view.clicks = true;
                view.div.on('plotly_click', (event) => {
                    const point = event.points[0];
                    setTriggerValue('click', { x: point.x, y: point.y, curve: point.curveNumber, index: point.pointIndex,
                                               customdata: point.customdata === undefined ? null : point.customdata });
                });
            }
        });
    }).catch(() => {
        view.div.textContent = 'This picture needs Plotly from the lab server (app/static/PLOTLY_JS): start the lab with "genlab".';
    });
}
"""

_plot = st.components.v2.component("genlab_plot", js=PLOT_JS.replace("PLOTLY_JS", PLOTLY_JS), isolate_styles=False)


def _click(key: str) -> Click | None:
    """The click that triggered this script run on plot ``key``, if any."""
    state = st.session_state.get(key)
    value = state.get("click") if hasattr(state, "get") else getattr(state, "click", None)
    if not isinstance(value, dict):
        return None
    return Click(float(value["x"]), float(value["y"]), int(value["curve"]), int(value["index"]), value.get("customdata"))


def figure_ring(key: str) -> FigureRing:
    """The figures this session's plot ``key`` drew with a step (lab.plot_export), for the run bar's Export menu."""
    name = f"plot.figures.{key}"
    if name not in st.session_state:
        st.session_state[name] = FigureRing()
    return st.session_state[name]


def figure_maker(key: str) -> Callable[[Snapshot], go.Figure] | None:
    """How this session's plot ``key`` draws a run's snapshot (:func:`keep_figure_maker`), or None."""
    return st.session_state.get(f"plot.maker.{key}")


def keep_figure_maker(key: str, figure_of: Callable[[Snapshot], go.Figure]) -> None:
    """Remember how plot ``key`` draws a run's snapshot, so Export can draw every kept moment (the timeline's GIF)."""
    st.session_state[f"plot.maker.{key}"] = figure_of


def as_drawn(fig: go.Figure) -> str:
    """The figure as the browser gets it, as JSON: a horizontal legend moved to the bottom of the figure, under the x
    axis' title (Plotly places a legend at a negative ``y`` relative to the plot area, where the lab's large axis
    titles are)."""
    if fig.layout.legend.orientation == "h":
        fig.update_layout(legend={"yref": "container", "y": 0, "yanchor": "bottom"})
    return fig.to_json()


def plot_in_place(fig: go.Figure, key: str, on_click: Callable[[Click], None] | None = None, step: int | None = None) -> None:
    """Draw ``fig`` into the page's plot ``key``: the first time a new plot, afterwards the same plot redrawn in
    place. ``on_click`` (optional) is called with the :class:`Click` before the script run the click causes. A
    ``step`` (the snapshot's) keeps the figure for Export (:func:`figure_ring`); the figure goes as :func:`as_drawn`."""
    serve_plotly()
    config = CONFIG | {"toImageButtonOptions": {"filename": f"genlab-{key}", "scale": 2}}
    figure = as_drawn(fig)
    if step is not None:
        figure_ring(key).add(step, figure)
    data = {"figure": figure, "config": config, "clickable": on_click is not None}
    if on_click is None:
        _plot(data=data, key=key, height="content")
        return

    def clicked() -> None:
        click = _click(key)
        if click is not None:
            on_click(click)

    _plot(data=data, key=key, height="content", on_click_change=clicked)
