"""The lab server's janitor (lab.janitor): one sweeping thread per process, and a sweep frees what only a full
collection can (objects in a reference cycle)."""

from __future__ import annotations

import gc
import threading
import weakref

from lab import janitor


class Node:
    pass


def test_a_sweep_collects_a_dropped_cycle():
    gc.disable()
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a
        watch = weakref.ref(a)
        del a, b
        assert watch() is not None  # a cycle: reference counting alone keeps it
        janitor.sweep()
        assert watch() is None
    finally:
        gc.enable()


def test_start_runs_one_thread_however_often_it_is_called():
    janitor.start()
    janitor.start()
    assert sum(t.name == "genlab-janitor" for t in threading.enumerate()) == 1
