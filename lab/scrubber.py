"""The timeline in the run bar: look back at any moment the run kept, and resume training from it.

A paused run's *Timeline* button (in its run bar, on the first screen of every page) opens a slider over the steps
its timeline kept (engine.timeline: log-spaced early steps and the recent ones) and "now". Choosing a step draws the
moment kept there (picture, readouts and curves up to that step); "Resume from here" makes the model what it was
then, so Play continues from that step. While the run plays (or before it has kept an earlier moment) the button is
there but disabled, so pausing changes nothing on the page but the picture.
"""

from __future__ import annotations

import streamlit as st

from engine.run import RUNNING, WAITING, Run, Snapshot

NOW = "now"


def _pending(key: str) -> str:
    return f"{key}.moment-now"


def scrubber(run: Run, key: str) -> Snapshot | None:
    """Draw the Timeline button (in the run bar) and return the kept snapshot chosen in it, or None for the run as it
    is now; the live panel reads the same choice with :func:`chosen`."""
    state = f"{key}.moment"
    latest = run.snapshot(watch=False).step
    options: list[int | str] = [s for s in run.kept_steps() if s < latest]
    if run.status in (RUNNING, WAITING) or not options:
        st.session_state.pop(state, None)
        st.popover("Timeline", icon=":material/history:", disabled=True, key=f"{key}-timeline",
                   help="Pause the run to look back at the moments it kept" if options else "The moments the run keeps appear here once it has taken a step")  # fmt: skip
        return _choose(run, None)
    options.append(NOW)
    if st.session_state.pop(_pending(key), False) or st.session_state.get(state) not in options:
        st.session_state[state] = NOW
    with st.popover("Timeline", icon=":material/history:", key=f"{key}-timeline", help="Look back at the moments this run kept, and resume from one"):
        at = st.select_slider(
            "Timeline",
            options=options,
            key=state,
            format_func=lambda s: f"now (step {latest:,})" if s == NOW else f"step {s:,}",
            help="The moments this run kept: steps 1, 2, 5, 10, 20, 50, ... and the last half minute. Choose one to see the run as it was then.",
            width=TIMELINE_WIDTH,
        )
        if at == NOW:
            return _choose(run, None)
        resumable = run.resumable(at)
        if st.button("Resume from here", icon=":material/history:", key=f"{key}.resume", disabled=not resumable,
                     help="Make the model what it was at this step and forget what came after; Play then continues from here, exactly as the run went on"
                     if resumable else "Only the picture of this moment was kept (the model copies are the first to go when the timeline reaches its memory cap)"):  # fmt: skip
            run.resume_from(at)
            st.session_state[_pending(key)] = True
            st.rerun()
    return _choose(run, run.moment(at))


TIMELINE_WIDTH = 420
"""The slider's width in the Timeline popover, in CSS pixels: room for the steps' labels."""


CHOSEN = "scrubber.chosen"
"""This session's chosen moments, by run (``id``): only the runs whose Timeline shows a past moment have one."""


def _choose(run: Run, moment: Snapshot | None) -> Snapshot | None:
    chosen_moments = st.session_state.setdefault(CHOSEN, {})
    if moment is None:
        chosen_moments.pop(id(run), None)
    else:
        chosen_moments[id(run)] = moment
    return moment


def chosen(run: Run) -> Snapshot | None:
    """The kept moment of ``run`` chosen in its run bar's Timeline in this script run (None: the run as it is now)."""
    return st.session_state.get(CHOSEN, {}).get(id(run))
