"""The live panel: pull snapshots from a Run and redraw, the "burst fragment" way.

Measured on Streamlit 1.67 (see ARCHITECTURE.md): a fragment with ``run_every=1.0`` whose body redraws for up
to ~0.9 s and then returns keeps memory flat. An endless loop leaks, a ``run_every`` under 0.1 s stalls,
``st.rerun`` loops crawl. While the run is not running the fragment does not poll at all (``run_every=None``).

Pictures (``draw_fast``) are drawn by the browser (lab.frames). A fragment redraws them once per run,
:data:`BATCHES_PER_SECOND` times a second, sending every frame the run published since the last batch; the
browser plays them at the pace they were made. One draw per fragment run lets every picture keep one key, so
the browser updates the same canvas instead of mounting a new one (which showed a blank frame now and then).
Plotly charts (``draw_slow``) are a second fragment, redrawn ``slow_fps`` times a second, because Plotly
re-sends the whole figure on every update.

With ``?renderer=png`` (the old path, kept for ``genlab bench live``) a burst fragment redraws the latest
picture as a PNG through ``st.image`` at up to ``fps``, for up to ~0.9 s per run.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.errors import StreamlitDuplicateElementKey

from engine.run import RUNNING, Run, Snapshot
from lab import frames, scrubber, stage
from lab.export import FrameRing

Draw = Callable[[Snapshot], "np.ndarray | None"]
Picture = Callable[[Snapshot], np.ndarray]
BURST_SECONDS = 0.9
BATCHES_PER_SECOND = 8.0
"""How often a playing page sends the browser a batch of new frames (its text and metrics redraw as often);
a fragment's ``run_every`` under 0.1 s stalls."""


@dataclass
class _Batch:
    """What the panel is drawing now: the snapshots new since its last redraw (the latest last) and the pictures
    drawn so far, which name the browser's players and key their components (``<panel key>.<n>``)."""

    key: str
    snapshots: Sequence[Snapshot]
    renderer: str
    fresh: bool = True
    """False when nothing was published since the last batch: the pictures only need to stay (lab.frames.keep)."""
    part: str | None = None
    """The part of the panel being drawn (one side of a pair: :func:`viewing`), None for the whole panel."""
    at_once: bool = False
    """A page run's batch (the run now, or a kept moment chosen in the Timeline): the browser shows it at once, even
    when it is older than what it showed, instead of playing it after the frames it has."""
    pictures: int = field(default=0)
    made: list[tuple[Picture, np.ndarray]] = field(default_factory=list)
    """Each picture drawn in this batch with the function of a snapshot that made it (:func:`made`)."""

    def slot(self) -> str:
        self.pictures += 1
        return f"{self.key}.{self.pictures}"


_drawing: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("genlab_live_batch", default=None)


def redrawn(run: Run, draw: Callable[[Snapshot], None], every: float, at: Snapshot | None = None) -> None:
    """Draw ``draw(snapshot)`` from the run's latest snapshot (or the kept moment ``at``, lab.scrubber) now and, while
    the run plays, again every ``every`` seconds: a fragment, for pictures that are Plotly figures updated in place
    under stable keys. Streamlit can run an auto-rerunning fragment twice in one script run; the second drawing (the
    same keys) is skipped. When the run stops by itself (finished, idle, NaN) the whole page reruns, so the run bar
    shows it and polling stops."""
    was_running = run.status == RUNNING

    @st.fragment(run_every=every if was_running else None)
    def area() -> None:
        snap = at if at is not None and not was_running else run.snapshot()
        try:
            draw(snap)
        except StreamlitDuplicateElementKey:
            pass
        if was_running and snap.status != RUNNING:
            st.rerun()

    area()


def rewindable(run: Run) -> tuple[DeltaGenerator, Snapshot | None]:
    """A slot for a page's live area and the kept moment chosen in the run bar's Timeline (lab.scrubber; None: the run
    as it is now): draw the area in the slot (:func:`redrawn` with ``at``)."""
    return st.container(), scrubber.chosen(run)


def drawing() -> _Batch | None:
    """The batch a live panel is drawing, or None outside one (a still picture)."""
    return _drawing.get()


@contextmanager
def viewing(part: str, view: Callable[[Snapshot], Snapshot]) -> Iterator[None]:
    """Draw one part of what a live panel shows (one side of a pair, engine.pair): the pictures drawn meanwhile get
    the batch's snapshots through ``view`` and keys of their own (``<panel key>.<part>.<n>``)."""
    batch = _drawing.get()
    part_batch = None if batch is None else _Batch(f"{batch.key}.{part}", [view(s) for s in batch.snapshots], batch.renderer, batch.fresh, part, batch.at_once)
    token = _drawing.set(part_batch)
    try:
        yield
    finally:
        _drawing.reset(token)
        if batch is not None:
            batch.made += [(lambda s, f=f: f(view(s)), picture) for f, picture in part_batch.made]


def made(picture_of: Picture, picture: np.ndarray) -> None:
    """Note that ``picture_of`` made ``picture`` in the batch being drawn (lab.views.show_frames does), so the panel
    can draw the same picture of any kept moment (the timeline's GIF)."""
    batch = _drawing.get()
    if batch is not None:
        batch.made.append((picture_of, picture))


def maker(picture: np.ndarray | None) -> Picture | None:
    """The function that made ``picture`` in the batch being drawn, or None."""
    batch = _drawing.get()
    return next((f for f, p in batch.made if p is picture), None) if batch is not None and picture is not None else None


def live_panel(run: Run, draw_fast: Draw, draw_slow: Draw | None = None, *, key: str, fps: float = 25.0, slow_fps: float = 3.0) -> None:
    """Draw the run's latest snapshot now, and keep redrawing while it runs.

    ``draw_fast`` and ``draw_slow`` each render one snapshot with ordinary Streamlit calls (columns, pictures
    through ``views.show_image`` / ``views.show_frames``, charts); they must not create widgets. ``draw_fast``
    returns the main picture it drew (uint8), which the run bar's Export menu saves (lab.stage.frames). Charts
    (``views.plot``) keep one key each and are redrawn in place.

    When the run bar's Timeline (lab.scrubber) chose a kept moment of the paused run, both functions draw that moment.
    """
    renderer = frames.renderer()
    ring = stage.frames(run)
    if renderer == "png":
        _png_panel(run, draw_fast, draw_slow, fps, slow_fps, ring)
        return
    running = run.status == RUNNING
    shown = [-1]  # the version last sent to the browser: a page run sends the latest picture, its fragment runs what is new
    picture_slot = stage.picture()
    moment = scrubber.chosen(run)

    @st.fragment(run_every=1.0 / min(fps, BATCHES_PER_SECOND) if running else None)
    def pictures() -> None:
        if moment is not None:
            batch = [moment]
        else:
            batch = run.since(shown[0]) if shown[0] >= 0 else [run.snapshot()]  # a page run: the picture now, no history
        snap = batch[-1]
        token = _drawing.set(_Batch(key, batch, renderer, fresh=snap.version != shown[0], at_once=shown[0] < 0))
        try:
            picture = draw_fast(snap)
            picture_of = maker(picture)
        finally:
            _drawing.reset(token)
        if picture_of is not None:
            stage.keep_picture_function(run, picture_of)
        if isinstance(picture, np.ndarray) and snap.version != shown[0]:
            ring.add(snap.step, picture)
        shown[0] = snap.version
        if running and snap.status != RUNNING:  # the run paused itself (idle, NaN, failure): refresh the whole page once
            st.rerun()

    @st.fragment(run_every=1.0 / slow_fps if running else None)
    def charts() -> None:
        try:
            draw_slow(moment if moment is not None else run.snapshot())
        except StreamlitDuplicateElementKey:  # the fragment ran twice in one script run: its charts are drawn
            pass

    with picture_slot:
        pictures()
    if draw_slow is not None:
        with stage.charts():
            charts()


def _png_panel(run: Run, draw_fast: Draw, draw_slow: Draw | None, fps: float, slow_fps: float, ring: FrameRing) -> None:
    """The old path, kept for ``genlab bench live``: a burst fragment redrawing PNGs into ``st.empty()`` slots."""
    running = run.status == RUNNING

    @st.fragment(run_every=1.0 if running else None)
    def panel() -> None:
        with stage.picture():
            fast_slot = st.empty()
        slow_slot = None
        if draw_slow is not None:
            with stage.charts():
                slow_slot = st.empty()
        _burst(run, fast_slot, slow_slot, draw_fast, draw_slow, fps, slow_fps, was_running=running, ring=ring)

    panel()


def _burst(run, fast_slot, slow_slot, draw_fast, draw_slow, fps, slow_fps, was_running: bool, ring: FrameRing) -> None:
    """Redraw for up to BURST_SECONDS; only when a new snapshot version is there."""
    start = time.monotonic()
    shown_fast = shown_slow = -1
    last_slow = -1e9
    while True:
        snap = run.snapshot()
        now = time.monotonic()
        if snap.version != shown_fast:
            with fast_slot.container():
                picture = draw_fast(snap)
            if isinstance(picture, np.ndarray):
                ring.add(snap.step, picture)
            shown_fast = snap.version
        due = now - last_slow >= 1.0 / slow_fps or snap.status != RUNNING
        if slow_slot is not None and snap.version != shown_slow and due:
            with slow_slot.container():
                draw_slow(snap)
            shown_slow, last_slow = snap.version, now
        if snap.status != RUNNING:
            if was_running:  # the run paused itself (idle, NaN, failure): refresh the whole page once
                st.rerun()
            return
        if now - start >= BURST_SECONDS:
            return
        time.sleep(max(0.0, 1.0 / fps - (time.monotonic() - now)))
