"""What the live machinery costs: a task trained by :class:`engine.run.Run` at full speed, against the same
task's ``step`` in a bare loop, for every family's ``genlab bench``.

Both contenders compute in a thread of their own with the configured threads (engine.device), as in the lab
server; the bench's main thread only watches, polling the Run as a playing page does (8 times a second). Each
contender runs at least ``seconds`` per repeat, alternately, and the best rate of each and the ratio of medians
are reported: on a shared machine single runs are noisy.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from engine.device import configure_threads, in_training_thread
from engine.run import MAX_FPS, Run, Task

SECONDS = 2.0
"""The least time each contender runs per repeat, so that start-up costs do not decide the ratio."""
POLL_S = 0.125
"""How often the bench reads the Run's snapshot: as a playing page (lab.live, 8 batches a second)."""
TARGET = 0.95


def loop_rate(make_task: Callable[[], Task], params: Mapping[str, Any], seconds: float) -> float:
    """Steps per second of ``task.step(params)`` called in a bare loop for at least ``seconds`` (after 3 warm-up steps);
    ``params`` filled up with the task's declared defaults, as a Run fills them."""
    task = make_task()
    declared = getattr(task, "PARAMS", None)
    params = declared.complete(params) if declared is not None else dict(params)
    task.reset(dict(params))
    for _ in range(3):
        task.step(dict(params))
    steps, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        task.step(dict(params))
        steps += 1
    return steps / elapsed


def run_rate(make_task: Callable[[], Task], params: Mapping[str, Any], seconds: float, max_fps: float, *,
             after: Callable[[Run], None] | None = None, **run_kwargs: Any) -> float:  # fmt: skip
    """Steps per second of a Run playing the task at full speed for at least ``seconds`` (after its first 3 steps),
    publishing snapshots at up to ``max_fps`` as its page asks; ``run_kwargs`` go to the Run, and ``after`` sees the
    paused run before it is closed."""
    run = Run(make_task(), dict(params), max_fps=max_fps, **run_kwargs)
    try:
        run.start()
        while (first := run.snapshot()).step < 3:
            time.sleep(0.01)
        while (snap := run.snapshot()).time - first.time < seconds:
            time.sleep(POLL_S)
        run.pause()
        if after is not None:
            after(run)
        return (snap.step - first.step) / (snap.time - first.time)
    finally:
        run.close()


def run_vs_loop(make_task: Callable[[], Task], params: Mapping[str, Any], *, seconds: float | None = None, repeats: int = 3, max_fps: float = MAX_FPS) -> dict[str, Any]:
    """The Run against the bare loop, ``repeats`` alternating rounds of at least ``seconds`` (default :data:`SECONDS`)
    each: steps per second and their ratio (target :data:`TARGET`); the Run publishes up to ``max_fps`` snapshots a
    second (default: as the live pages, :data:`engine.run.MAX_FPS`)."""
    seconds = SECONDS if seconds is None else seconds
    if seconds <= 0 or repeats < 1:
        raise ValueError(f"seconds must be > 0 and repeats >= 1, got {seconds} and {repeats}")
    threads = configure_threads()
    configure_threads(threads, elsewhere=1)  # the watching thread holds no OpenMP team of its own (engine.device)
    runs, loops = [], []
    try:
        for _ in range(repeats):
            runs.append(run_rate(make_task, params, seconds, max_fps))
            loops.append(in_training_thread(lambda: loop_rate(make_task, params, seconds)))
    finally:
        configure_threads(threads)
    return {
        "run_steps_per_s": round(max(runs), 2),
        "loop_steps_per_s": round(max(loops), 2),
        "run_vs_loop": round(max(runs) / max(loops), 3),
        "run_vs_loop_median": round(statistics.median(runs) / statistics.median(loops), 3),
        "target_run_vs_loop": f">= {TARGET}",
        "seconds_per_contender": seconds,
        "run_publications_per_s_at_most": max_fps,
    }
