"""What a run's timeline costs (``genlab bench history``): each training page's Run with its timeline against the same
Run without one (``timeline_bytes=0``), and what one kept moment holds.

Both contenders play at full speed in their own thread with the configured threads, polled as a playing page polls
them (lab.run_vs_loop), alternately, each for at least ``seconds`` per repeat; the ratio of the best rates and of the
medians is reported (target: the timeline costs at most 5% of the training rate). The memory figures: bytes of one
task copy and of one moment's pictures, how many such moments the cap admits, and what the timeline held when the run
with it paused.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from typing import Any

from engine.device import configure_threads
from engine.run import MAX_FPS, Run, Task
from engine.timeline import CAP_BYTES, task_copy
from lab import run_vs_loop

TARGET = 0.95


def _contenders() -> dict[str, tuple[Callable[[], Task], dict[str, Any], str]]:
    """Every training page's task at its defaults (MNIST where the page opens on it and the data is there, else the 8x8
    digits every machine has)."""
    from engine.data import DataError, data_root, load
    from engine.tasks.dbm import DBMTrainingTask
    from engine.tasks.gan import GAN2DTask
    from engine.tasks.gsn import GSNTrainTask
    from engine.tasks.rbm import RBMTrainTask
    from engine.tasks.vae import VAETask

    try:
        load("mnist", "test", root=str(data_root()), download=False)
        mnist = True
    except DataError:
        mnist = False
    dataset = "mnist" if mnist else "digits"
    return {
        "rbm": (RBMTrainTask, {"dataset": dataset}, f"RBMTrainTask on {dataset}, the page's other defaults"),
        "vae": (VAETask, {"dataset": dataset}, f"VAETask on {dataset}, the page's other defaults"),
        "gan-2d": (GAN2DTask, {}, "GAN2DTask at the page's defaults"),
        "gsn": (GSNTrainTask, {"dataset": dataset}, f"GSNTrainTask on {dataset}, the page's other defaults"),
        "dbm": (DBMTrainingTask, {}, "DBMTrainingTask at the page's defaults (8x8 digits)"),
    }


def history_cost(make_task: Callable[[], Task], params: Mapping[str, Any], *, seconds: float | None = None, repeats: int = 3, max_fps: float = MAX_FPS) -> dict[str, Any]:
    """The Run with its timeline against the Run without, ``repeats`` alternating rounds of at least ``seconds`` (default
    lab.run_vs_loop.SECONDS) each; and the timeline's memory."""
    seconds = run_vs_loop.SECONDS if seconds is None else seconds
    if seconds <= 0 or repeats < 1:
        raise ValueError(f"seconds must be > 0 and repeats >= 1, got {seconds} and {repeats}")
    held: list[dict[str, int]] = []

    def measure(run: Run) -> None:
        held.append({"timeline_bytes": run.timeline_bytes, "moments": len(run.kept_steps()), "resumable": sum(run.resumable(s) for s in run.kept_steps()), "step": run.snapshot().step})

    threads = configure_threads()
    configure_threads(threads, elsewhere=1)
    with_timeline, without = [], []
    try:
        for _ in range(repeats):
            with_timeline.append(run_vs_loop.run_rate(make_task, params, seconds, max_fps, after=measure))
            without.append(run_vs_loop.run_rate(make_task, params, seconds, max_fps, timeline_bytes=0))
    finally:
        configure_threads(threads)
    task = make_task()
    declared = getattr(task, "PARAMS", None)
    task.reset(declared.complete(params) if declared is not None else dict(params))
    copied = task_copy(task)
    picture_bytes = sum(a.nbytes for a in task.arrays().values())
    moment_bytes = picture_bytes + (copied[1] if copied else 0)
    return {
        "with_timeline_steps_per_s": round(max(with_timeline), 2),
        "without_steps_per_s": round(max(without), 2),
        "with_vs_without": round(max(with_timeline) / max(without), 3),
        "with_vs_without_median": round(statistics.median(with_timeline) / statistics.median(without), 3),
        "target_with_vs_without": f">= {TARGET}",
        "task_copy_bytes": copied[1] if copied else None,
        "picture_bytes": picture_bytes,
        "cap_bytes": CAP_BYTES,
        "moments_with_copies_at_cap": CAP_BYTES // moment_bytes,
        "held_when_paused": max(held, key=lambda h: h["step"]),
        "seconds_per_contender": seconds,
    }


def run_bench(pages: list[str] | None = None, seconds: float | None = None, repeats: int = 3) -> dict[str, Any]:
    """:func:`history_cost` for every training page (or those named)."""
    contenders = _contenders()
    unknown = sorted(set(pages or ()) - set(contenders))
    if unknown:
        raise ValueError(f"unknown pages {unknown}; choose from {sorted(contenders)}")
    out: dict[str, Any] = {"bench": "history", "target": f"a run with its timeline trains at >= {TARGET} of the same run without one"}
    for name in pages or list(contenders):
        make, params, what = contenders[name]
        out[name] = {"task": what, **history_cost(make, params, seconds=seconds, repeats=repeats)}
    return out
