"""What ``genlab bench memory`` reads from /proc: a process's resident memory, and how many run threads it has
(a Run's thread is named ``genlab-run`` while it lives and is gone once the run is closed)."""

from __future__ import annotations

import os
import time

import numpy as np

from engine.run import Run
from lab.memory_bench import rss_mb, run_threads
from tests.counter import Counter


def test_rss_grows_with_what_the_process_holds():
    before = rss_mb(os.getpid())
    held = np.ones(50 * 2**20 // 8)  # 50 MB, touched
    assert rss_mb(os.getpid()) - before > 40
    del held


def test_run_threads_are_counted_while_they_live_and_not_after_close():
    before = run_threads(os.getpid())
    runs = [Run(Counter(), {}) for _ in range(2)]
    for run in runs:
        run.start()
    deadline = time.monotonic() + 30
    while run_threads(os.getpid()) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run_threads(os.getpid()) == before + 2
    for run in runs:
        run.close()
    deadline = time.monotonic() + 30  # a joined thread leaves /proc a moment after join() returns
    while run_threads(os.getpid()) > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run_threads(os.getpid()) == before
