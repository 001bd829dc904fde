"""lab.run_vs_loop measures what it says: a task whose step takes a known time runs at that rate in both
contenders, and the Run's count of steps and its clock are read from the same snapshot."""

from __future__ import annotations

import time

import numpy as np
import pytest

from lab.run_vs_loop import loop_rate, run_rate, run_vs_loop

STEP_S = 0.004


class Sleeper:
    """A task whose every step takes STEP_S seconds (a sleep: no CPU, so the machine's load cannot change it)."""

    def reset(self, params):
        self.x = 0

    def step(self, params):
        time.sleep(STEP_S)
        self.x += 1
        return {"x": float(self.x)}

    def arrays(self):
        return {"x": np.array([self.x])}


def test_both_contenders_see_the_known_step_rate():
    expected = 1 / STEP_S
    assert 0.75 * expected < loop_rate(Sleeper, {}, 0.5) <= expected
    assert 0.75 * expected < run_rate(Sleeper, {}, 0.5, max_fps=25.0) <= expected * 1.02


def test_the_report_names_both_rates_and_their_ratio():
    report = run_vs_loop(Sleeper, {}, seconds=0.3, repeats=2)
    assert report["run_vs_loop"] == pytest.approx(report["run_steps_per_s"] / report["loop_steps_per_s"], abs=2e-3)
    assert 0.8 < report["run_vs_loop"] < 1.05
    with pytest.raises(ValueError, match="repeats"):
        run_vs_loop(Sleeper, {}, repeats=0)
