"""The live panel: pull snapshots from a Run and redraw, the "burst fragment" way.

Measured on Streamlit 1.67 (see ARCHITECTURE.md): a fragment with
``run_every=1.0`` whose body redraws into ``st.empty()`` slots for up to ~0.9 s
at <= 30 fps and then returns gives ~25 fps with flat memory. An endless loop
leaks, a ``run_every`` under 0.1 s stalls, ``st.rerun`` loops crawl. While the
run is not running the fragment does not poll at all (``run_every=None``).

Pictures (``draw_fast``: images via ``st.image``, in the stage's picture slot) redraw at up to ``fps``;
Plotly charts (``draw_slow``) at up to ``slow_fps``, because Plotly re-sends the
whole figure on every update.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import streamlit as st

from engine.run import RUNNING, Run, Snapshot
from lab import stage
from lab.export import FrameRing

Draw = Callable[[Snapshot], "np.ndarray | None"]
BURST_SECONDS = 0.9


def live_panel(run: Run, draw_fast: Draw, draw_slow: Draw | None = None, *, key: str, fps: float = 25.0, slow_fps: float = 3.0) -> None:
    """Draw the run's latest snapshot now, and keep redrawing while it runs.

    ``draw_fast`` and ``draw_slow`` each render one snapshot with ordinary
    Streamlit calls (columns, images, charts); they are called inside their own
    ``st.empty()`` container and must not create widgets. ``draw_fast`` returns the main
    picture it drew (uint8), which the run bar's Export menu saves (lab.stage.frames). A Plotly chart drawn
    there needs a key that includes ``snap.version`` (e.g. ``f"loss-{snap.version}"``):
    one burst may draw several versions into the same slot.
    """
    running = run.status == RUNNING

    @st.fragment(run_every=1.0 if running else None)
    def panel() -> None:
        with stage.picture():
            fast_slot = st.empty()
        slow_slot = None
        if draw_slow is not None:
            with stage.charts():
                slow_slot = st.empty()
        _burst(run, fast_slot, slow_slot, draw_fast, draw_slow, fps, slow_fps, was_running=running, ring=stage.frames(run))

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
