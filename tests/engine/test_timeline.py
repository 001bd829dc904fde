"""The timeline: which moments a run keeps, its memory cap, scrubbing, and resuming bit-identically from a kept moment."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from engine.run import IDLE, PAUSED, Run, Series, Snapshot
from engine.models.gsn import build_model
from engine.tasks.dbm import DBMTrainingTask, SamplingTask, load_images
from engine.tasks.dbm import MeanFieldTask as DBMMeanFieldTask
from engine.tasks.gan import GAN2DTask, MnistGANTask
from engine.inference import which_kl
from engine.tasks.gsn import ClampedChainTask, FreeChainTask, GSNTrainTask, load_split
from engine.tasks.inference.amortized import AmortizedGapTask
from engine.tasks.inference.em import EMTask
from engine.tasks.inference.gradients import GradientsTask
from engine.tasks.inference.kl import WhichKLTask
from engine.tasks.inference.meanfield import MeanFieldTask
from engine.tasks.inference.sparse import SparseCodingTask
from engine.tasks.rbm import GibbsTask, RBMTrainTask
from engine.tasks.vae import CompareTask, VAETask
from engine.timeline import Timeline, landmark_steps, task_copy
from tests.counter import Counter
from tests.engine.test_dbm_tasks import small_trained_dbm
from tests.engine.test_inference_amortized import binary_images, small_vae


def test_landmarks_are_one_two_five_per_decade():
    assert list(itertools.islice(landmark_steps(), 11)) == [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]


def _snap(step: int, nbytes: int) -> Snapshot:
    return Snapshot(step, step, 0.0, "running", "", {}, {"picture": np.zeros(nbytes, np.uint8)}, {})


def test_a_timeline_keeps_landmarks_and_recent_moments_within_its_cap():
    """Publications every step, 0.1 s apart: landmarks plus one recent moment per second, never over the cap; task
    copies are dropped before pictures; the newest moment is always kept with its copy."""
    cap = 60_000
    timeline = Timeline(cap_bytes=cap, recent=5, recent_every_s=0.95)
    kept_copies = []
    for step in range(0, 400):
        now = step * 0.1
        if timeline.wants(step, now):
            timeline.add(_snap(step, 4_000), (object(), 2_000), now)
            kept_copies.append(step)
        assert timeline.nbytes <= cap
    steps = timeline.steps()
    assert steps == sorted(steps) and steps[-1] == kept_copies[-1] >= 390
    assert {0, 1, 2, 5, 10, 20, 50, 100, 200} <= set(steps)
    recent = [s for s in steps if s not in (0, 1, 2, 5, 10, 20, 50, 100, 200)]
    assert len(recent) <= 5 and all(b - a == 10 for a, b in itertools.pairwise(recent))
    assert timeline.resumable(steps[-1])
    pictures_only = [s for s in steps if not timeline.resumable(s)]
    assert pictures_only, "the cap (60 kB) is below 16 moments of 6 kB: some copies had to go"
    assert all(timeline.resumable(s) or s in pictures_only for s in steps)
    assert sum(4_000 + (2_000 if timeline.resumable(s) else 0) for s in steps) == timeline.nbytes


def test_a_timeline_over_its_cap_drops_pictures_too_but_keeps_the_newest():
    timeline = Timeline(cap_bytes=10_000, recent=50, recent_every_s=0.0)
    for step in range(100):
        timeline.add(_snap(step, 3_000), None, float(step))
        assert timeline.nbytes <= 10_000
    assert timeline.steps()[-1] == 99 and len(timeline) == 3


def test_a_timeline_with_no_room_keeps_nothing():
    timeline = Timeline(cap_bytes=0)
    assert not timeline.wants(0, 0.0)
    with pytest.raises(ValueError, match="cap_bytes >= 0"):
        Timeline(cap_bytes=-1)


def test_a_view_cuts_the_latest_series_at_the_moment():
    timeline = Timeline()
    timeline.add(_snap(5, 10), None, 0.0)
    latest = Snapshot(9, 9, 0.0, "paused", "", {"loss": Series(np.arange(1, 10), np.arange(1, 10) * 2.0)}, {}, {})
    view = timeline.view(5, latest)
    assert view.step == 5 and list(view.metrics["loss"].steps) == [1, 2, 3, 4, 5] and list(view.metrics["loss"].values) == [2, 4, 6, 8, 10]
    with pytest.raises(KeyError, match="no kept moment at step 6"):
        timeline.view(6, latest)


def test_scrubbing_shows_the_frame_published_at_that_step():
    run = Run(Counter(), {})
    published = {}
    for _ in range(25):
        snap = run.step(1)
        published[snap.step] = snap.arrays["n"]
    assert {0, 1, 2, 5, 10, 20} <= set(run.kept_steps())
    for step in run.kept_steps():
        if step:
            np.testing.assert_array_equal(run.moment(step).arrays["n"], published[step])
            assert run.moment(step).latest("n") == step
    assert not run.resumable(10)
    with pytest.raises(ValueError, match="no copy of the model was kept"):
        run.resume_from(10)
    run.close()


class Big:
    """Publishes 1 MB a step and keeps 1 MB of state."""

    def reset(self, p):
        self.x = np.zeros(2**18, np.float32)

    def step(self, p):
        self.x += 1
        return {"mean": float(self.x[0])}

    def arrays(self):
        return {"x": self.x}

    def shared_data(self):
        return ()


def test_a_long_run_stays_under_its_timeline_cap():
    cap = 6 * 2**20
    run = Run(Big(), {}, timeline_bytes=cap)
    run._timeline.recent_every_s = 0.02
    run.start()
    end = time.monotonic() + 2.5
    most = 0
    while time.monotonic() < end:
        most = max(most, run.timeline_bytes)
        time.sleep(0.01)
    run.pause()
    assert run.snapshot().step > 100 and 0 < most <= cap and run.timeline_bytes <= cap
    assert len(run.kept_steps()) >= 3
    run.close()


def test_task_copies_share_the_data_and_copy_the_rest():
    task = RBMTrainTask()
    task.reset(RBMTrainTask.PARAMS.complete({"dataset": "digits", "start": "scratch", "hidden": 16}))
    copied, nbytes = task_copy(task)
    assert copied.data.train is task.data.train and copied.monitor_train is task.monitor_train
    assert copied.rbm.W is not task.rbm.W and copied.generator is not task.generator
    assert nbytes >= 2 * task.rbm.W.numel() * 4  # weights and their velocity at least
    assert task_copy(Counter()) is None


def _mnist_gan() -> MnistGANTask:
    return MnistGANTask(np.random.default_rng(0).uniform(size=(200, 784)).astype(np.float32))


TASKS = {
    "rbm": (RBMTrainTask, {"dataset": "digits", "start": "scratch", "hidden": 32, "method": "pcd", "batch_size": 20}),
    "vae": (VAETask, {"dataset": "digits", "hidden": 32, "batch_size": 50}),
    "gan-2d": (GAN2DTask, {"batch_size": 64}),
    "gan-mnist": (_mnist_gan, {"start": "scratch", "width": 32, "batch_size": 16}),
    "gsn": (GSNTrainTask, {"dataset": "digits", "start": "scratch", "hidden": 32, "batch_size": 20}),
    "dbm": (DBMTrainingTask, {"dataset": "digits", "n1": 16, "n2": 8, "greedy_updates": 12, "batch_size": 20, "n_chains": 10}),
    "em": (EMTask, {"n_iter": 200}),
    "which-kl": (lambda: WhichKLTask(which_kl.make_grid(7.0, 41)), {}),
    "gradients": (GradientsTask, {}),
    "mean-field": (MeanFieldTask, {}),
    "sparse": (SparseCodingTask, {"dataset": "digits"}),
    "amortized": (lambda: AmortizedGapTask(small_vae(0), binary_images(8)), {"n_images": 5}),
}


def _chain_models() -> dict:
    import torch

    return {"toy": build_model("dae", 8, 8, torch.Generator().manual_seed(0), n_hidden=32)}


SAMPLERS = {
    "gibbs": (GibbsTask, {"model": "bars-stripes", "chains": 50}),
    "dbm-sampling": (lambda: SamplingTask(small_trained_dbm()), {"n_chains": 6}),
    "dbm-mean-field": (lambda: DBMMeanFieldTask(small_trained_dbm(), load_images("digits").heldout), {"n_iter": 200, "init": "uniform"}),
    "gsn-free-chain": (lambda: FreeChainTask(_chain_models(), load_split("digits")), {"n_chains": 8}),
    "gsn-clamped": (lambda: ClampedChainTask(_chain_models(), load_split("digits")), {"region": "left", "n_examples": 4}),
    "vae-compare": (lambda: CompareTask(latents=(2, 5), eval_every=7), {"dataset": "digits", "batch_size": 50}),
}
TASKS |= SAMPLERS


def _same(a: Snapshot, b: Snapshot) -> None:
    assert a.step == b.step
    assert a.arrays.keys() == b.arrays.keys()
    for k in a.arrays:
        np.testing.assert_array_equal(a.arrays[k], b.arrays[k], err_msg=k)
    for k in a.metrics:
        np.testing.assert_array_equal(a.metrics[k].steps, b.metrics[k].steps, err_msg=k)
        np.testing.assert_array_equal(a.metrics[k].values, b.metrics[k].values, err_msg=k)


@pytest.mark.parametrize("name", TASKS)
def test_resuming_from_a_kept_moment_repeats_the_run_bit_for_bit(name):
    """Run 30 steps; resume from the landmark at step 10 (DBM: across its switch from greedy to joint training at
    step 12) and play 20 steps again: every array and metric equals the original's."""
    make, params = TASKS[name]
    run = Run(make(), params)
    for _ in range(30):
        run.step(1)
    original = run.snapshot()
    assert run.resumable(10)
    run.resume_from(10)
    back = run.snapshot()
    assert back.step == 10 and back.status in (IDLE, PAUSED) and max(run.kept_steps()) == 10
    _same(back, run.moment(10))
    for _ in range(20):
        run.step(1)
    _same(run.snapshot(), original)
    run.close()


def test_resuming_twice_from_one_moment_gives_the_same_run():
    make, params = TASKS["rbm"]
    run = Run(make(), params)
    for _ in range(12):
        run.step(1)
    run.resume_from(5)
    first = run.step(7)
    run.resume_from(5)
    second = run.step(7)
    _same(first, second)
    run.close()


def test_reset_forgets_the_timeline():
    make, params = TASKS["gan-2d"]
    run = Run(make(), params)
    run.step(3)
    run.reset()
    assert run.kept_steps() == [0]
    run.close()


def test_the_timelines_of_runs_left_long_ago_are_dropped():
    from engine.run import forget_unwatched_timelines

    left, watched = Run(Counter(), {}), Run(Counter(), {})
    for run in (left, watched):
        run.step(12)
    left._last_read -= 400.0  # its page was left 400 s ago
    assert left.timeline_bytes > 0 and watched.timeline_bytes > 0
    assert forget_unwatched_timelines(300.0) >= 1
    assert left.timeline_bytes == 0 and left.kept_steps() == [] and watched.timeline_bytes > 0
    assert left.step(1).step == 13 and left.kept_steps() == [13]  # it goes on, and keeps moments again
    left.close()
    watched.close()
