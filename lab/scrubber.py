"""The timeline scrubber under a live picture: look back at any moment the run kept, and resume training from it.

A paused run's page shows a slider over the steps its timeline kept (engine.timeline: log-spaced early steps and the
recent ones) and "now". Choosing a step draws the moment kept there (picture, readouts and curves up to that step);
"Resume from here" makes the model what it was then, so Play continues from that step. While the run plays the
scrubber is hidden and the page shows the run as it is.
"""

from __future__ import annotations

import streamlit as st

from engine.run import RUNNING, Run, Snapshot

NOW = "now"


def _pending(key: str) -> str:
    return f"{key}.moment-now"


def scrubber(run: Run, key: str) -> Snapshot | None:
    """Draw the scrubber (when the run is not playing and has kept an earlier moment) and return the kept snapshot
    chosen, or None for the run as it is now."""
    state = f"{key}.moment"
    latest = run.snapshot(watch=False).step
    options: list[int | str] = [s for s in run.kept_steps() if s < latest]
    if run.status == RUNNING or not options:
        st.session_state.pop(state, None)
        return None
    options.append(NOW)
    if st.session_state.pop(_pending(key), False) or st.session_state.get(state) not in options:
        st.session_state[state] = NOW
    with st.container(horizontal=True, vertical_alignment="bottom", key=f"{key}-timeline"):
        at = st.select_slider(
            "Timeline",
            options=options,
            key=state,
            format_func=lambda s: f"now (step {latest:,})" if s == NOW else f"step {s:,}",
            help="The moments this run kept: steps 1, 2, 5, 10, 20, 50, ... and the last half minute. Choose one to see the run as it was then.",
        )
        if at == NOW:
            return None
        resumable = run.resumable(at)
        if st.button("Resume from here", icon=":material/history:", key=f"{key}.resume", disabled=not resumable,
                     help="Make the model what it was at this step and forget what came after; Play then continues from here, exactly as the run went on"
                     if resumable else "Only the picture of this moment was kept (the model copies are the first to go when the timeline reaches its memory cap)"):  # fmt: skip
            run.resume_from(at)
            st.session_state[_pending(key)] = True
            st.rerun()
    return run.moment(at)
