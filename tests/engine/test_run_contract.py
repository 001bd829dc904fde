"""The Run contract, once for every executor: the in-process thread (engine.run.Run) and a Ray actor
(engine.ray_run.RayRun, against a local Ray this module starts; skipped, saying why, where Ray is not installed)."""

from __future__ import annotations

import math
import os
import signal
import time

import numpy as np
import pytest

from engine.admission import Admission, Limits
from engine.run import CLOSED, FAILED, IDLE, PAUSED, RUNNING, WAITING, Run


class Walk:
    """x <- x * (1 + rate) + noise from its own generator: every step known, every run reproducible from its seed."""

    PARAMS = None
    divergence_hint = "lower the rate"

    def check_params(self, p):
        if not 0 <= p["rate"] <= 1e6:
            raise ValueError(f"rate must be in [0, 1e6], got {p['rate']}")

    def reset(self, p):
        self.rng = np.random.default_rng(int(p.get("seed", 0)))
        self.x = 1.0

    def step(self, p):
        if p.get("slow"):
            time.sleep(0.002)
        self.x = self.x * (1 + p["rate"]) + float(self.rng.normal()) * 1e-3
        if p.get("nan_above") is not None and self.x > p["nan_above"]:
            self.x = math.nan
        return {"x": self.x}

    def arrays(self):
        return {"x": np.array([self.x])}

    def state(self):
        return (self.x, self.rng.bit_generator.state)

    def restore(self, s):
        self.x, self.rng.bit_generator.state = s[0], s[1]

    def shared_data(self):
        return ()


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'genlab[ray]'): the Ray executor's leg cannot run")
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="error", log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.getcwd(), "GENLAB_THREADS": "1"}})  # fmt: skip
    yield ray
    ray.shutdown()


@pytest.fixture(params=["thread", "ray"])
def make(request):
    made = []

    def build(params, **kwargs):
        if request.param == "thread":
            run = Run(Walk(), params, **kwargs)
        else:
            from engine.ray_run import RayRun

            request.getfixturevalue("local_ray")
            run = RayRun(Walk, params, **kwargs)
            assert wait_until(lambda: run.status != WAITING, timeout=60)  # the cluster has placed its actor
        made.append(run)
        return run

    build.executor = request.param
    yield build
    for run in made:
        run.close()


def wait_until(cond, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_steps_snapshots_and_live_parameters(make):
    run = make({"rate": 0.5})
    assert run.status == IDLE and run.snapshot().step == 0
    snap = run.step(3)
    assert snap.step == 3 and len(snap.metrics["x"].values) == 3
    run.update_params(rate=0.0)
    x = run.snapshot().latest("x")
    assert abs(run.step(1).latest("x") - x) < 0.01 and run.params["rate"] == 0.0
    with pytest.raises(ValueError, match="rate must be in"):
        run.update_params(rate=-1)
    assert run.params["rate"] == 0.0


def test_play_pause_and_since(make):
    run = make({"rate": 0.0, "slow": True})
    run.start()
    assert run.status == RUNNING
    assert wait_until(lambda: run.snapshot().step > 20)
    run.pause()
    assert run.status == PAUSED
    step = run.snapshot().step
    time.sleep(0.1)
    assert run.snapshot().step == step
    first = run.snapshot().version
    run.step(1)
    run.step(1)
    assert [s.step for s in run.since(first)] == [step + 1, step + 2]


def test_reset_and_speed(make):
    run = make({"rate": 0.1})
    run.step(5)
    run.set_speed(2.0, 1)
    assert run.speed == (2.0, 1)
    run.reset()
    assert run.snapshot().step == 0 and run.status in (IDLE, PAUSED)


def test_a_nan_pauses_rolls_back_and_names_it(make):
    run = make({"rate": 1.0, "nan_above": 100.0})
    run.step(10)
    snap = run.snapshot()
    assert snap.status == PAUSED and "x became NaN" in snap.message and "lower the rate" in snap.message
    assert snap.step < 7 and np.isfinite(snap.arrays["x"]).all()


def test_resume_from_a_kept_moment_repeats_the_run(make):
    run = make({"rate": 0.01})
    for _ in range(25):
        run.step(1)
    original = run.snapshot()
    assert run.resumable(10)
    run.resume_from(10)
    assert run.snapshot().step == 10 and run.moment(10).step == 10
    for _ in range(15):
        run.step(1)
    assert run.snapshot().latest("x") == original.latest("x")
    assert run.timeline_bytes > 0


def test_admission_holds_a_run_past_the_limit(make):
    admission = Admission(Limits(max_running=1))
    first = make({"rate": 0.0, "slow": True}, admission=admission, session="a")
    second = make({"rate": 0.0, "slow": True}, admission=admission, session="b")
    first.start()
    second.start()
    assert second.status == WAITING and second.waiting_place() == 1
    first.pause()
    assert second.status == RUNNING
    assert wait_until(lambda: second.snapshot().step > 5)


def test_close(make):
    run = make({"rate": 0.0})
    run.close()
    assert run.status == CLOSED


def test_a_killed_worker_fails_its_run_and_reset_starts_a_new_one(local_ray):
    from engine.ray_run import RayRun

    victim, bystander = RayRun(Walk, {"rate": 0.0, "slow": True}), RayRun(Walk, {"rate": 0.0, "slow": True})
    try:
        victim.start()
        bystander.start()
        os.kill(victim.worker_pid(), signal.SIGKILL)
        assert wait_until(lambda: victim.snapshot().status == FAILED, timeout=30)
        assert "worker stopped" in victim.snapshot().message and "Reset" in victim.snapshot().message
        assert wait_until(lambda: bystander.status == RUNNING, timeout=60) and wait_until(lambda: bystander.snapshot().step > 10)
        victim.reset()
        assert wait_until(lambda: victim.status != WAITING, timeout=60)  # the new actor is placed
        assert victim.status in (IDLE, PAUSED) and victim.step(3).step == 3
    finally:
        victim.close()
        bystander.close()


def test_a_run_waits_for_room_in_the_cluster_and_then_plays_as_asked(local_ray):
    from engine.ray_run import RayRun

    occupying = [RayRun(Walk, {"rate": 0.0}) for _ in range(2)]  # the local cluster has 2 CPUs, each run asks for 1
    try:
        assert all(wait_until(lambda r=r: r.snapshot().status != WAITING) for r in occupying)
        late = RayRun(Walk, {"rate": 0.0, "slow": True})
        occupying.append(late)
        assert late.status == WAITING and late.snapshot().step == 0 and "Waiting for the Ray cluster" in late.snapshot().message
        late.update_params(rate=0.5)
        with pytest.raises(ValueError, match="rate must be in"):
            late.update_params(rate=-1.0)
        late.start()
        assert late.params["rate"] == 0.5 and late.kept_steps() == []
        occupying[0].close()
        assert wait_until(lambda: late.status == RUNNING, timeout=60)
        assert late.params["rate"] == 0.5 and wait_until(lambda: late.snapshot().step > 3)
    finally:
        for r in occupying:
            r.close()
