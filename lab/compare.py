"""Compare mode: two runs from one seed, one or two settings apart, side by side and in lock step (engine.pair).

A training page offers its lessons' pairs (a task module's ``COMPARISONS``) in the sidebar's "Compare side by side"
choice, bound to the URL (``?<key>.compare=<name>``). In compare mode the page's run is a :class:`PairedTask` under a
run key of its own; its live picture is the page's own picture drawn once per side, A left and B right, and its
curves put A and B on one chart per metric.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import streamlit as st

from engine.pair import SIDES, Comparison, PairedTask, side_of
from engine.params import Params
from engine.run import Run, Snapshot, Task
from lab import controls as ui
from lab import live, views

ONE_RUN = "one run"
GAP = 8
"""Pixels of white between the two sides of an exported picture."""


def choice(key: str, comparisons: Sequence[Comparison]) -> Comparison | None:
    """The sidebar's choice between one run and a lesson's pair; None for one run."""
    by_name = {c.name: c for c in comparisons}
    name = ui.select(f"{key}.compare", "Compare side by side", [ONE_RUN, *by_name], ONE_RUN,
                     help="Two runs from one seed that differ only in the setting named, stepping in lock step, their pictures side by side and their curves on one chart")  # fmt: skip
    comparison = by_name.get(name)
    if comparison is not None and comparison.why:
        st.caption(comparison.why)
    return comparison


def side_label(P: Params, comparison: Comparison, side: str) -> str:
    """"A · Negative phase: CD": the side and what it sets, in the declarations' words."""
    parts = []
    for name, value in comparison.values(side).items():
        p = P[name]
        shown = "on" if value is True else "off" if value is False else p.labels.get(value, f"{value:g}" if isinstance(value, float) else str(value))
        parts.append(f"{p.title}: {shown}")
    return f"{side} · " + ", ".join(parts)


def session_run(key: str, make_task: Callable[[], Task], comparison: Comparison | None, params: Mapping[str, Any], **run_kwargs: Any) -> Run:
    """The page's run (lab.controls.session_run): one task, or the pair ``comparison`` under a key of its own."""
    if comparison is None:
        return ui.session_run(key, make_task, params, **run_kwargs)
    return ui.session_run(f"{key}.compare.{comparison.name}", lambda: PairedTask(make_task, comparison), params, **run_kwargs)


def task_of(run: Run) -> Any:
    """The run's task; for a pair, side A's (what a page reads from its task: the data, the model's source)."""
    task = run.task
    return task.sides["A"] if isinstance(task, PairedTask) else task


def first_side(snap: Snapshot, comparison: Comparison | None) -> Snapshot:
    """Side A's view of a pair's snapshot (what a one-model tool of the page, like an estimate, works on); a single run's as it is."""
    return snap if comparison is None else side_of(snap, "A", comparison)


def side_by_side(pictures: Sequence[np.ndarray | None]) -> np.ndarray | None:
    """The sides' pictures in one (for Export), a white gap between them; None when a side drew none."""
    if any(p is None for p in pictures):
        return None
    pictures = [views.to_uint8(p) for p in pictures]
    height = max(p.shape[0] for p in pictures)
    padded = []
    for p in pictures:
        pad = [(0, height - p.shape[0]), (0, GAP)] + [(0, 0)] * (p.ndim - 2)
        padded.append(np.pad(p, pad, constant_values=255))
    if len({p.ndim for p in padded}) != 1:
        return None
    return np.concatenate(padded, axis=1)[:, :-GAP]


def draw_sides(draw_fast: Callable[[Snapshot], np.ndarray | None], P: Params, comparison: Comparison) -> Callable[[Snapshot], np.ndarray | None]:
    """The page's ``draw_fast`` for a pair: the page's own picture of each side, A left and B right, each titled
    with what it sets; returns both pictures in one for Export."""

    def draw(snap: Snapshot) -> np.ndarray | None:
        pictures = []
        for side, column in zip(SIDES, st.columns(len(SIDES)), strict=True):
            with column:
                st.markdown(f"**{side_label(P, comparison, side)}**")
                with live.viewing(side, lambda s, side=side: side_of(s, side, comparison)):
                    pictures.append(draw_fast(side_of(snap, side, comparison)))
        makers = [live.maker(p) for p in pictures]
        both = side_by_side(pictures)
        if both is not None and all(makers):
            live.made(lambda s: side_by_side([f(s) for f in makers]), both)
        return both

    return draw


def draw_curves(metrics: Mapping[str, tuple[str, str]], P: Params, comparison: Comparison, key: str) -> Callable[[Snapshot], None]:
    """A pair's charts: for each metric (``{name: (title, unit)}``) one chart with A's and B's curves."""

    def draw(snap: Snapshot) -> None:
        shown = [(name, text) for name, text in metrics.items() if all(f"{side}/{name}" in snap.metrics for side in SIDES)]
        if not shown:
            st.caption("Press **Play**: both runs' curves appear here.")
            return
        for (name, (title, unit)), column in zip(shown, st.columns(len(shown)), strict=True):
            with column:
                series = {side: snap.metrics[f"{side}/{name}"] for side in SIDES}
                labels = {side: side_label(P, comparison, side) for side in SIDES}
                fig = views.curves(series, title, unit, names=labels)
                fig.update_layout(legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0}, margin={"b": 110})
                views.plot(fig, key=f"{key}-{name}")

    return draw


def live_panel(run: Run, comparison: Comparison | None, draw_fast: Callable[[Snapshot], np.ndarray | None], draw_slow: Callable[[Snapshot], None] | None, *,
               key: str, P: Params, metrics: Mapping[str, tuple[str, str]], **panel: Any) -> None:  # fmt: skip
    """The page's live panel (lab.live.live_panel) for one run, or for the pair ``comparison``: the page's picture
    per side (:func:`draw_sides`) and ``metrics`` on shared charts (:func:`draw_curves`) instead of ``draw_slow``."""
    if comparison is None:
        live.live_panel(run, draw_fast, draw_slow, key=key, **panel)
    else:
        live.live_panel(run, draw_sides(draw_fast, P, comparison), draw_curves(metrics, P, comparison, key), key=f"{key}.pair", **panel)
