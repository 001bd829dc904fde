"""Compare mode and the timeline scrubber on the training pages, under AppTest: two sides drawn in lock step from a
pair in the URL; scrubbing shows a kept moment; "Resume from here" takes the run back to it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.lab.conftest import live_frames, picture_captions

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


PAGES = {
    "rbm": ("rbm.py", {"rbm.dataset": "digits 8x8", "rbm.compare": "CD-1 against PCD"}, "rbm", "rbm.live.pair", ("Negative phase: CD-k", "Negative phase: PCD")),
    "dbm": ("dbm_training.py", {"dbm.t.dataset": "digits 8x8", "dbm.t.compare": "without and with centering"}, "dbm.t", "dbm.t.live.pair", ("Centering: off", "Centering: on")),
    "gsn": ("gsn_training.py", {"gsn.train.dataset": "digits 8x8", "gsn.train.start": "scratch", "gsn.train.compare": "walkback against one step"}, "gsn.train", "gsn.train.pair",
            ("Walkback steps k: 4", "Walkback steps k: 1")),
    "vae": ("vae_training.py", {"vae.train.dataset": "8x8 digits", "vae.train.compare": "AEVB against wake-sleep"}, "vae.train", "vae.train.panel.pair", ("AEVB", "wake-sleep")),
}  # fmt: skip


def _open(page: str, query: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=180)
    at.query_params.update(query)
    return at.run()


@pytest.mark.parametrize("name", PAGES)
def test_a_pair_from_the_link_draws_both_sides_at_the_same_step(name):
    page, query, bar, panel, labels = PAGES[name]
    at = _open(page, query)
    assert not at.exception, at.exception
    headers = [m.value for m in at.markdown if m.value.startswith(("**A ·", "**B ·"))]
    assert len(headers) == 2 and labels[0] in headers[0] and labels[1] in headers[1], headers
    for _ in range(3):
        at.button(key=f"{bar}.step").click().run()
    assert not at.exception, at.exception
    slots = live_frames(at)
    sides = {slot.split(".")[-2] for slot in slots if slot.startswith(panel)}
    assert sides == {"A", "B"}, list(slots)
    steps = {header["steps"][-1] for slot, (header, _) in slots.items() if slot.startswith(panel)}
    assert len(steps) == 1 and steps.pop() >= 3  # lock step: every picture of both sides shows one step


def timeline_disabled(at) -> bool:
    """Whether the run bar's Timeline button (a popover) is disabled."""
    (timeline,) = [p for p in at.get("popover") if p.proto.popover.label == "Timeline"]
    return timeline.proto.popover.disabled


def test_scrubbing_shows_a_kept_moment_and_resume_goes_back_to_it():
    at = _open("rbm.py", {"rbm.dataset": "digits 8x8", "rbm.start": "scratch"})
    assert not [s for s in at.select_slider if s.key == "rbm.moment"]  # nothing kept before the first step ...
    assert timeline_disabled(at)  # ... and the run bar's Timeline says so
    for _ in range(6):
        at.button(key="rbm.step").click().run()
    assert any("step 6" in c for c in picture_captions(at))
    assert not timeline_disabled(at)
    scrubber = at.select_slider(key="rbm.moment")
    assert scrubber.value == "now" and {0, 1, 2, 5} <= set(scrubber.options[:-1] and [int(o.split()[-1]) for o in scrubber.options[:-1]])
    scrubber.set_value(2).run()
    assert not at.exception
    assert any("step 2" in c for c in picture_captions(at)) and not any("step 6" in c for c in picture_captions(at))
    at.button(key="rbm.resume").click().run()
    assert not at.exception
    assert any("step 2" in c for c in picture_captions(at))
    assert at.select_slider(key="rbm.moment").value == "now"
    at.button(key="rbm.step").click().run()
    assert any("step 3" in c for c in picture_captions(at))


def test_the_gan_on_mnist_compares_its_losses_from_the_pretrained_start(monkeypatch):
    if not (SHARED / "mnist").exists():
        pytest.skip("MNIST is not in ../shared/data")
    monkeypatch.setenv("GENLAB_DATA", str(SHARED))
    at = _open("gan_mnist.py", {"ganm.compare": "minimax against non-saturating G loss"})
    assert not at.exception, at.exception
    at.button(key="ganm.step").click().run()
    assert not at.exception, at.exception
    headers = [m.value for m in at.markdown if m.value.startswith(("**A ·", "**B ·"))]
    assert len(headers) == 2 and "minimax" in headers[0].lower() and "non-saturating" in headers[1].lower(), headers
    assert {slot.split(".")[-2] for slot in live_frames(at) if slot.startswith("ganm.live.pair")} == {"A", "B"}


def test_the_gan_2d_pair_draws_two_scenes_and_the_shared_curves():
    from tests.lab.conftest import stage_figures

    at = _open("gan_2d.py", {"gan2d.compare": "1 against 5 D steps per G step"})
    assert not at.exception, at.exception
    for _ in range(2):
        at.button(key="gan2d.step").click().run()
    assert not at.exception, at.exception
    scenes = {key.rsplit(".", 1)[-1]: fig for key, fig in stage_figures(at).items() if ".scene." in key}
    assert set(scenes) == {"A", "B"}
    titles = [fig["layout"]["title"]["text"] for fig in scenes.values()]
    assert any("A · D steps per G step k: 1" in t for t in titles) and any("B · D steps per G step k: 5" in t for t in titles), titles
    assert all("step 2" in t for t in titles)
    assert not [b for b in at.get("popover") if "Export" in str(b.proto)]  # one picture per side: no single picture to export


def test_scrubbing_em_shows_an_earlier_half_step_and_resumes_from_it():
    at = _open("inference_em.py", {})
    for _ in range(6):
        at.button(key="em.step").click().run()
    assert any("iteration 3, after the M-step" in c.value for c in at.caption)
    at.select_slider(key="em.moment").set_value(2).run()
    assert not at.exception
    assert any("iteration 1, after the M-step" in c.value for c in at.caption)
    at.button(key="em.resume").click().run()
    at.button(key="em.step").click().run()
    assert any("iteration 2, after the E-step" in c.value for c in at.caption)


def _beside_script() -> None:
    import streamlit as st

    from lab import live, views

    for part in (None, "A"):
        token = live._drawing.set(live._Batch("test", [], "canvas", part=part))
        for i, slot in enumerate(views.beside([3, 2])):
            slot.write(f"{part} {i}")
        live._drawing.reset(token)
    st.write("done")


def test_a_pair_side_stacks_the_pictures_that_a_single_run_draws_side_by_side():
    at = AppTest.from_function(_beside_script).run()
    assert not at.exception
    assert len(at.columns) == 2  # the single run's two columns; one side of a pair stacks its two slots instead
    assert [m.value for m in at.markdown] == ["None 0", "None 1", "A 0", "A 1", "done"]
