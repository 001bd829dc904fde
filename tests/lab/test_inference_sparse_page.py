"""The sparse coding page under AppTest: it renders on the 8x8 digits, Step changes the dictionary picture,
λ acts live, a preset applies, and the PSD button fills its comparison."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.lab.conftest import shown_pictures

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "inference_sparse.py")


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_page_renders_and_step_changes_the_picture():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    before = shown_pictures(at)
    at.button(key="sparse.step").click().run()
    assert not at.exception
    assert metric(at, "Step") == "1"
    assert shown_pictures(at) != before
    assert "nan" not in metric(at, "Mean J")


def test_lambda_acts_live_and_sparsifies_the_codes():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.button(key="sparse.step").click().run()
    dense = float(metric(at, "Zero code entries").rstrip("%"))
    at.select_slider(key="sparse.lam").set_value(1.0).run()
    at.button(key="sparse.step").click().run()
    assert not at.exception
    assert metric(at, "Step") == "2"
    assert float(metric(at, "Zero code entries").rstrip("%")) > dense + 20


def test_preset_applies_and_restarts():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.button(key="sparse.step").click().run()
    at.selectbox(key="sparse.preset").set_value("large λ: sparse codes").run()
    at.button(key="sparse.apply").click().run()
    assert not at.exception
    assert metric(at, "Step") == "0"
    assert at.select_slider(key="sparse.lam").value == 0.5


def test_psd_button_compares_the_encoder_with_ista():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    for _ in range(3):
        at.button(key="sparse.step").click().run()
    at.button(key="sparse.psd").click().run()
    assert not at.exception
    encoder, optimum = float(metric(at, "J, encoder (one pass)")), float(metric(at, "J*, the optimum"))
    assert optimum <= encoder < float(metric(at, "J, one ISTA step"))
