"""The GSN pages under AppTest: they open on the pretrained chains, Frame / Step advance the run, settings reset it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "pages"
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))
    if (SHARED / "mnist").exists():
        monkeypatch.setenv("GENLAB_DATA", str(SHARED))


needs_mnist = pytest.mark.skipif(not (SHARED / "mnist").exists(), reason="MNIST is not in ../shared/data")


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


@needs_mnist
def test_clamped_page_runs_frames_and_resets_on_a_new_region():
    at = AppTest.from_file(str(PAGES / "gsn_clamped.py"), default_timeout=120).run()
    assert not at.exception
    assert "chain step 0" in markdown(at) and len(at.get("image")) >= 3
    at.slider(key="gsn.clamped.steps").set_value(3).run()
    at.button(key="gsn.clamped.step").click().run()
    assert not at.exception
    assert "chain step 3" in markdown(at)
    at.selectbox(key="gsn.clamped.region").set_value("square").run()
    assert not at.exception
    assert "chain step 0" in markdown(at)
    at.selectbox(key="gsn.clamped.model").set_value(at.selectbox(key="gsn.clamped.model").options[-1]).run()
    at.button(key="gsn.clamped.step").click().run()
    assert not at.exception and "chain step 3" in markdown(at)


@needs_mnist
def test_chain_page_steps_and_labels_the_chains():
    at = AppTest.from_file(str(PAGES / "gsn_chain.py"), default_timeout=120).run()
    assert not at.exception
    assert "36 chains at step 0" in markdown(at)
    for _ in range(2):
        at.button(key="gsn.chain.step").click().run()
    assert not at.exception
    assert "36 chains at step 2" in markdown(at) and "Classifier's labels now" in markdown(at)
    assert "Distinct classes visited per chain" in markdown(at)


@needs_mnist
def test_training_page_opens_on_the_pretrained_dae_and_steps():
    at = AppTest.from_file(str(PAGES / "gsn_training.py"), default_timeout=120).run()
    assert not at.exception
    assert any("Started from **DAE, walkback training" in c.value for c in at.caption)
    at.button(key="gsn.train.step").click().run()
    assert not at.exception
    assert "**Step 1**" in markdown(at)


def test_training_page_trains_digits_from_scratch():
    at = AppTest.from_file(str(PAGES / "gsn_training.py"), default_timeout=120).run()
    at.radio(key="gsn.train.start").set_value("scratch")
    at.selectbox(key="gsn.train.data").set_value("digits")
    at.radio(key="gsn.train.hidden").set_value(100)
    at.run()
    assert not at.exception
    for _ in range(2):
        at.button(key="gsn.train.step").click().run()
    assert not at.exception
    assert "**Step 2**" in markdown(at)
