"""A shared server's limits: how many runs play at once, on the server and per browser session.

``genlab --max-runs M --max-runs-per-session K`` (or ``GENLAB_MAX_RUNS`` / ``GENLAB_MAX_RUNS_PER_SESSION``) sets
them for the lab server; the default is no server-wide limit and :data:`PER_SESSION` runs per session. A run asked to
play past a limit waits in line (engine.admission) and its page says how many runs are ahead.
"""

from __future__ import annotations

import functools
import os

from engine.admission import Admission, Limits

PER_SESSION = 3
"""Runs one browser session may play at once by default (a page left pauses its run within seconds anyway)."""
MAX_RUNS_ENV, PER_SESSION_ENV = "GENLAB_MAX_RUNS", "GENLAB_MAX_RUNS_PER_SESSION"


def _limit(name: str, default: int | None) -> int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if text.lower() in ("none", "0"):
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number of runs (or 0 for no limit), got {text!r}") from None


def limits_from_env() -> Limits:
    """The limits the environment asks for (see the module's docstring)."""
    return Limits(max_running=_limit(MAX_RUNS_ENV, None), per_session=_limit(PER_SESSION_ENV, PER_SESSION))


@functools.cache
def admission() -> Admission:
    """The lab server's one admission, built from the environment the first time it is asked for."""
    return Admission(limits_from_env())
