"""Admission: a shared server's limits on playing runs, and its first-come queue."""

from __future__ import annotations

import time

import numpy as np
import pytest

from engine.admission import Admission, Limits
from engine.run import PAUSED, RUNNING, WAITING, Run


class Ticker:
    def reset(self, p):
        self.n = 0

    def step(self, p):
        self.n += 1
        time.sleep(0.001)
        return {"n": float(self.n)}

    def arrays(self):
        return {"n": np.array([self.n])}


def _runs(admission: Admission, sessions: list[str]) -> list[Run]:
    return [Run(Ticker(), {}, admission=admission, session=s) for s in sessions]


def _close(runs):
    for r in runs:
        r.close()


def test_past_the_server_limit_runs_wait_in_line_and_start_in_order():
    admission = Admission(Limits(max_running=2))
    runs = _runs(admission, ["a", "b", "c", "d", "e"])
    for r in runs:
        r.start()
    assert [r.status for r in runs] == [RUNNING, RUNNING, WAITING, WAITING, WAITING]
    assert [r.waiting_place() for r in runs] == [None, None, 1, 2, 3]
    assert admission.running == 2 and admission.waiting == 3
    runs[0].pause()
    assert [r.status for r in runs] == [PAUSED, RUNNING, RUNNING, WAITING, WAITING]
    assert [r.waiting_place() for r in runs[3:]] == [1, 2]
    runs[3].pause()  # leaves the line
    assert runs[3].status == PAUSED and runs[4].waiting_place() == 1
    runs[1].close()
    assert runs[4].status == RUNNING and admission.running == 2 and admission.waiting == 0
    time.sleep(0.1)
    assert runs[4].snapshot().step > 0  # it really plays
    _close(runs)
    assert admission.running == 0


def test_a_session_past_its_own_limit_waits_while_others_go_first():
    admission = Admission(Limits(max_running=3, per_session=1))
    a1, a2, b1 = _runs(admission, ["a", "a", "b"])
    a1.start()
    a2.start()
    b1.start()
    assert (a1.status, a2.status) == (RUNNING, WAITING)
    assert b1.status == WAITING  # the line is first come, first served: b waits behind a2
    a1.pause()
    assert a2.status == RUNNING and b1.status == RUNNING
    _close([a1, a2, b1])


def test_a_run_that_stops_by_itself_frees_its_worker():
    admission = Admission(Limits(max_running=1))
    first, second = _runs(admission, ["a", "b"])
    first.idle_timeout = 0.2  # nobody reads it: it pauses itself as if its page were left
    first.start()
    second.start()
    assert second.status == WAITING
    deadline = time.monotonic() + 5
    while second.status == WAITING and time.monotonic() < deadline:
        second.snapshot()  # its page is open
        time.sleep(0.02)
    assert first.status == PAUSED and "away" in first.snapshot().message
    assert second.status == RUNNING
    _close([first, second])


def test_a_waiting_run_whose_page_was_left_loses_its_place():
    admission = Admission(Limits(max_running=1))
    first, gone, third = _runs(admission, ["a", "b", "c"])
    first.start()
    gone.start()
    third.start()
    gone.idle_timeout = 0.05
    time.sleep(0.1)
    third.snapshot()
    first.pause()
    assert gone.status == PAUSED and "away" in gone.snapshot().message
    assert third.status == RUNNING
    _close([first, gone, third])


def test_limits_are_checked():
    with pytest.raises(ValueError, match="max_running must be at least 1"):
        Limits(max_running=0)
    with pytest.raises(ValueError, match="per_session must be at least 1"):
        Limits(per_session=-2)


def test_without_an_admission_every_run_plays():
    runs = [Run(Ticker(), {}) for _ in range(4)]
    for r in runs:
        r.start()
    assert all(r.status == RUNNING and r.waiting_place() is None for r in runs)
    _close(runs)
