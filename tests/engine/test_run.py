"""Run: the background thread's lifecycle, live parameters, speed, divergence and failure handling."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from engine.run import FAILED, IDLE, PAUSED, RUNNING, Run, _History


class Growth:
    """x <- x * (1 + rate): a model whose every step is known exactly."""

    divergence_hint = "lower the rate"

    def __init__(self):
        self.calls = 0

    def check_params(self, p):
        if not 0 <= p["rate"] <= 1e6:
            raise ValueError(f"rate must be in [0, 1e6], got {p['rate']}")

    def reset(self, p):
        self.x = float(p.get("x0", 1.0))

    def step(self, p):
        self.calls += 1
        if p.get("explode_at") == self.calls:
            raise RuntimeError("boom")
        self.x *= 1 + p["rate"]
        return {"x": self.x, "rate_seen": p["rate"]}

    def arrays(self):
        return {"x": np.array([self.x])}

    def state(self):
        return self.x

    def restore(self, s):
        self.x = s


def wait_until(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.005)
    return False


@pytest.fixture
def run():
    r = Run(Growth(), {"rate": 0.5})
    yield r
    r.close()


def test_synchronous_steps_are_exact(run):
    assert run.status == IDLE and run.snapshot().step == 0
    snap = run.step(3)
    assert snap.step == 3
    assert snap.arrays["x"][0] == pytest.approx(1.5**3)
    np.testing.assert_array_equal(snap.metrics["x"].steps, [1, 2, 3])
    np.testing.assert_allclose(snap.metrics["x"].values, [1.5, 2.25, 3.375])


def test_snapshots_are_immutable_and_versioned(run):
    a = run.snapshot()
    run.step(1)
    b = run.snapshot()
    assert b.version > a.version
    assert a.arrays["x"][0] == 1.0  # the old snapshot did not change under the reader
    with pytest.raises(ValueError):
        b.arrays["x"][0] = 7.0
    with pytest.raises(TypeError):
        b.arrays["y"] = np.zeros(1)


def test_play_pause_resume(run):
    run.update_params(rate=0.0)
    run.start()
    assert run.status == RUNNING and run.thread_alive
    assert wait_until(lambda: run.snapshot().step > 50)
    run.pause()
    assert run.status == PAUSED
    frozen = run.snapshot().step
    time.sleep(0.1)
    assert run.snapshot().step == frozen
    run.resume()
    assert wait_until(lambda: run.snapshot().step > frozen + 50)


def test_live_parameter_change_is_seen_at_next_step(run):
    run.step(2)
    run.update_params(rate=1.0)
    snap = run.step(1)
    np.testing.assert_array_equal(snap.metrics["rate_seen"].values, [0.5, 0.5, 1.0])
    assert snap.arrays["x"][0] == pytest.approx(2.25 * 2)


def test_live_parameter_change_while_running(run):
    run.update_params(rate=0.0)
    run.start()
    assert wait_until(lambda: run.snapshot().step > 10)
    run.update_params(rate=1e-9)
    assert wait_until(lambda: run.snapshot().latest("rate_seen") == 1e-9)
    run.pause()
    values = run.snapshot().metrics["rate_seen"].values
    switch = int(np.argmax(values > 0))
    assert (values[:switch] == 0).all() and (values[switch:] == 1e-9).all()


def test_out_of_range_parameter_is_refused_and_nothing_changes(run):
    with pytest.raises(ValueError, match="rate must be in"):
        run.update_params(rate=-1.0)
    assert run.params["rate"] == 0.5


def test_reset_rebuilds_from_current_params(run):
    run.step(5)
    run.update_params(x0=10.0)
    run.reset()
    snap = run.snapshot()
    assert snap.step == 0 and snap.arrays["x"][0] == 10.0 and snap.metrics == {}


def test_slow_motion(run):
    run.update_params(rate=0.0)
    run.set_speed(steps_per_second=20.0)
    run.start()
    time.sleep(0.5)
    run.pause()
    assert 5 <= run.snapshot().step <= 14  # ~10 steps at 20 steps/s in 0.5 s
    with pytest.raises(ValueError, match="steps per second"):
        run.set_speed(steps_per_second=0.0)


def test_steps_per_frame_publishes_every_frame_in_slow_motion(run):
    run.update_params(rate=0.0)
    run.set_speed(steps_per_second=200.0, steps_per_frame=5)
    run.start()
    assert wait_until(lambda: run.snapshot().step >= 20)
    run.pause()
    seen = run.snapshot().step
    assert seen % 5 == 0


def test_nan_pauses_rolls_back_and_names_the_quantity():
    run = Run(Growth(), {"rate": 1e6})
    run.start()
    assert wait_until(lambda: run.snapshot().status == PAUSED)  # the published snapshot, not only the status: the pause is set before the rolled-back frame is published
    snap = run.snapshot()
    assert "x became Inf" in snap.message and "lower the rate" in snap.message
    assert np.isfinite(snap.arrays["x"]).all()
    assert snap.step < 60  # rolled back to a finite state (1e6**k overflows float64 near k = 52)
    assert np.isfinite(snap.metrics["x"].values).all()
    run.update_params(rate=0.0)
    run.start()  # the run can go on from the last good state after lowering the rate
    assert wait_until(lambda: run.snapshot().step > snap.step + 5)
    run.close()


def test_exception_in_thread_marks_failed_with_message():
    run = Run(Growth(), {"rate": 0.0, "explode_at": 3})
    run.start()
    assert wait_until(lambda: run.status == FAILED)
    assert run.snapshot().message == "RuntimeError: boom"
    with pytest.raises(RuntimeError, match="reset it first"):
        run.start()
    run.update_params(explode_at=None)
    run.reset()
    assert run.status == PAUSED
    run.close()


def test_unwatched_run_pauses_itself():
    run = Run(Growth(), {"rate": 0.0}, idle_timeout=0.2)
    run.start()
    assert wait_until(lambda: run.snapshot(watch=False).status == PAUSED, timeout=3.0)
    assert "Paused while you were away: nobody looked at this run for 0 s" in run.snapshot().message
    run.close()


def test_close_joins_the_thread():
    before = threading.active_count()
    run = Run(Growth(), {"rate": 0.0})
    run.start()
    assert run.thread_alive
    run.close()
    assert not run.thread_alive
    assert threading.active_count() == before
    with pytest.raises(RuntimeError, match="closed"):
        run.start()


def test_history_stays_bounded_and_spans_the_whole_run():
    run = Run(Growth(), {"rate": 0.0}, history=100)
    run.step(1000)
    series = run.snapshot().metrics["x"]
    assert 50 <= len(series.steps) <= 100
    assert series.steps[0] == 1 and series.steps[-1] >= 900
    assert (np.diff(series.steps) > 0).all()
    run.close()


def test_since_returns_every_snapshot_published_after_a_version_oldest_first():
    run = Run(Growth(), {"rate": 0.5}, recent=4)
    first = run.snapshot().version
    for _ in range(3):
        run.step()
    newer = run.since(first)
    assert [s.step for s in newer] == [1, 2, 3]
    assert [s.arrays["x"][0] for s in newer] == pytest.approx([1.5, 2.25, 3.375])  # each frame as it was, not the latest
    assert all(a.time < b.time for a, b in zip(newer, newer[1:]))  # publication times, in order
    for _ in range(6):
        run.step()
    assert [s.step for s in run.since(first)] == [6, 7, 8, 9]  # only the last `recent` are kept
    run.start()
    assert wait_until(lambda: len(run.since(first)) == 4)
    run.pause()
    assert [s.version for s in run.since(first)] == [run.snapshot().version]  # a paused run keeps only its latest
    latest = run.snapshot()
    assert run.since(latest.version) == [latest]  # nothing new: the latest, so a page can always draw
    run.close()


def test_slow_motion_publishes_every_step_at_its_pace(run):
    run.update_params(rate=0.0)
    run.set_speed(steps_per_second=20.0)
    start = run.snapshot().version
    run.start()
    assert wait_until(lambda: run.snapshot().step >= 8)
    frames = [s for s in run.since(start) if s.status == RUNNING]
    run.pause()
    steps = [s.step for s in frames]
    assert steps == list(range(steps[0], steps[0] + len(steps)))  # no step skipped
    gaps = np.diff([s.time for s in frames])
    assert np.median(gaps) == pytest.approx(0.05, abs=0.02)  # 20 steps/s: a frame every 50 ms


class HiddenBlowUp(Growth):
    """Its parameter becomes Inf at step ``blow_up_at`` while the metric it reports stays finite: only the Run's
    parameter check (``nonfinite``) can see it."""

    def __init__(self, blow_up_at: int):
        super().__init__()
        self.blow_up_at = blow_up_at

    def step(self, p):
        self.calls += 1
        if self.calls >= self.blow_up_at:
            self.x = float("inf")
        return {"calls": self.calls}

    def nonfinite(self):
        return None if np.isfinite(self.x) else "x"


def test_at_full_speed_parameters_are_checked_before_every_publication_and_never_published_bad():
    run = Run(HiddenBlowUp(blow_up_at=5000), {"rate": 0.0}, max_fps=50.0)
    seen = []
    run.start()
    assert wait_until(lambda: (seen.append(run.snapshot()) or seen[-1]).status == PAUSED, timeout=30)
    snap = run.snapshot()
    run.close()
    assert "x became NaN or Inf" in snap.message and "rolled back" in snap.message
    assert all(np.isfinite(s.arrays["x"]).all() for s in seen + [snap])
    assert snap.step < 5000
    versions = [s.version for s in seen]
    assert len(set(versions)) < 5000 / 10  # published at most 50 times a second, not after each of thousands of steps


class CountedStates(Growth):
    """Counts how often the Run copies its state for a rollback."""

    def __init__(self):
        super().__init__()
        self.states = 0

    def step(self, p):
        time.sleep(0.002)
        return super().step(p)

    def state(self):
        self.states += 1
        return super().state()


def test_at_full_speed_the_rollback_state_is_copied_about_once_a_second_not_at_every_publication():
    task = CountedStates()
    run = Run(task, {"rate": 0.0}, max_fps=50.0)
    first = run.snapshot().version
    run.start()
    time.sleep(1.5)
    run.pause()
    published = run.snapshot().version - first
    run.close()
    assert published > 20  # it published dozens of times ...
    assert task.states <= 8  # ... and copied its state at Reset, Play, Pause and once a second (ROLLBACK_EVERY_S)





def test_a_published_series_never_changes_as_the_history_grows_halves_or_rolls_back():
    history = _History(limit=8)
    for step in range(1, 6):
        history.add(step, float(step))
    early = history.series()
    assert list(early.steps) == [1, 2, 3, 4, 5] and not early.steps.flags.writeable and not early.values.flags.writeable
    for step in range(6, 8):
        history.add(step, float(step))
    before_rollback = history.series()
    history.truncate(5)  # a rollback to step 5 ...
    history.add(6, 99.0)  # ... and the run goes on from there
    assert list(history.series().values) == [1, 2, 3, 4, 5, 99]
    assert list(before_rollback.values) == [1, 2, 3, 4, 5, 6, 7] and list(early.values) == [1, 2, 3, 4, 5]
    for step in range(7, 12):  # past 8 points: every other one is kept, at a doubled stride
        history.add(step, float(step))
    halved = history.series()
    assert list(halved.steps) == [1, 3, 5, 7, 9, 11] and history.stride == 2
    assert list(before_rollback.values) == [1, 2, 3, 4, 5, 6, 7]
