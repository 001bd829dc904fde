"""Memory given back by the lab server: a full garbage collection, then glibc's ``malloc_trim``, every
:data:`EVERY_S` seconds, in one background thread per server process.

The server skips Python's full collection after each script run (``--runner.postScriptGC false`` in
``lab.cli.serve_command``: it held the GIL 25-50 ms eight times a second and starved the training threads), so
the cycles a page leaves behind (figures, snapshots, a closed session's runs) wait for the collector's own
schedule, and glibc keeps the freed heap for reuse instead of returning it. Once every half minute costs one
short pause. Measured with ``genlab bench memory`` (README, "Memory"): a session that visited every page settles
at about 1.17 GB instead of 1.36 GB. (Capping glibc's malloc arenas at 2 changed nothing measurable.)

Before that, the timelines of runs whose page nobody has read for :data:`TIMELINE_RELEASE_S` seconds are dropped
(engine.run.forget_unwatched_timelines): up to 48 MiB each, kept for a page the student left long ago.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
import threading
import time

from engine.run import forget_unwatched_timelines

EVERY_S = 30.0
TIMELINE_RELEASE_S = 300.0
"""A run's timeline is dropped once its page has not been read for this long (5 minutes)."""
_started = threading.Lock()
_thread: threading.Thread | None = None


def _libc() -> ctypes.CDLL | None:
    """glibc, where the process runs on it (Linux); None elsewhere, where the janitor only collects."""
    name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
    return ctypes.CDLL(name) if name else None


def _trim() -> None:
    """Hand the heap's free pages back to the operating system."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def sweep() -> None:
    """Drop the timelines of runs left long ago, then one full collection, then the trim."""
    forget_unwatched_timelines(TIMELINE_RELEASE_S)
    gc.collect()
    _trim()


def _loop() -> None:
    while True:
        time.sleep(EVERY_S)
        sweep()


def start() -> None:
    """Start the sweeping thread, once per process (later calls do nothing)."""
    global _thread
    with _started:
        if _thread is None:
            _thread = threading.Thread(target=_loop, name="genlab-janitor", daemon=True)
            _thread.start()
