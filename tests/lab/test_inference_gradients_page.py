"""The gradient-estimators page under AppTest: it renders (with and without MNIST), a step draws a new batch into the
picture, widgets and presets drive the run, and the exact check reports its numbers."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from tests.lab.conftest import stage_figures

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "inference_gradients.py")
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


def open_page(monkeypatch, data: Path | None) -> AppTest:
    monkeypatch.setenv("GENLAB_DATA", str(data))
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    return at


def decoded(values) -> list[float]:
    """A trace's values as Plotly sends them: a list, or a typed array {"dtype", "bdata" (base64)}."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"])).tolist()
    return list(values)


def histogram_data(at: AppTest) -> list[list[float]]:
    """The stage picture's data: the estimates in its three histograms."""
    (fig,) = stage_figures(at).values()
    return [decoded(trace["x"]) for trace in fig["data"]]


def test_a_step_draws_a_new_batch_into_the_picture(monkeypatch):
    at = open_page(monkeypatch, SHARED)
    before = histogram_data(at)
    assert len(before) == 3 and all(len(x) == 500 for x in before)
    at.button(key="grad.step").click().run()
    assert not at.exception
    after = histogram_data(at)
    assert after != before
    assert any("1,000 so far" in c.value for c in at.caption)


def test_widgets_drive_the_run(monkeypatch):
    at = open_page(monkeypatch, SHARED)
    at.select_slider(key="grad.n_estimates").set_value(100)
    at.select_slider(key="grad.samples").set_value(16)
    at.run()
    at.button(key="grad.step").click().run()
    assert not at.exception
    assert all(len(x) == 100 for x in histogram_data(at))
    assert any("L = 16 samples" in c.value for c in at.caption)
    at.radio(key="grad.dim").set_value(2).run()  # a Reset-time setting: the run starts again, in 2-D
    assert not at.exception
    at.radio(key="grad.component").set_value("sigma2").run()
    assert not at.exception
    assert "∂/∂σ₂" in next(iter(stage_figures(at).values()))["layout"]["title"]["text"]


def test_a_preset_sets_the_widgets_and_restarts(monkeypatch):
    at = open_page(monkeypatch, SHARED)
    at.button(key="grad.step").click().run()
    at.selectbox(key="grad.preset").set_value("A bad constant baseline").run()
    at.button(key="grad.apply").click().run()
    assert not at.exception
    assert at.radio(key="grad.baseline").value == "constant"
    assert at.slider(key="grad.baseline_value").value == -5.0
    assert any("500 so far" in c.value and "b = -5" in c.value for c in at.caption)


def test_without_mnist_the_page_says_how_to_fetch_it_and_the_toy_part_works(monkeypatch, tmp_path):
    at = open_page(monkeypatch, tmp_path)
    notices = [i.value for i in at.info]
    assert any("genlab data fetch mnist" in n for n in notices)
    assert len(histogram_data(at)) == 3
    at.button(key="grad.step").click().run()
    assert not at.exception


def test_with_mnist_the_vae_variances_are_shown(monkeypatch):
    if not (SHARED / "mnist").exists():
        pytest.skip("needs MNIST in ../shared/data")
    at = open_page(monkeypatch, SHARED)
    labels = {m.label: m.value for m in at.metric}
    assert "Variance ratio" in labels and labels["Variance ratio"].endswith("×")
    assert float(labels["Variance ratio"].rstrip("×").replace(",", "")) > 300


def test_the_check_reports_the_exact_comparisons():
    from lab.inference.gradients_check import check

    result = check(0, str(SHARED) if (SHARED / "mnist").exists() else None)
    json.dumps(result)
    assert result["unbiased_max_z"] < 4.0
    assert abs(result["loglog_slope_worst"] + 1.0) < 0.1
    assert result["baseline_variance_ratio"] < 0.7
    assert result["reparam_variance_ratio"] < 0.2
    assert result["quadrature_vs_closed_form_max_abs"] < 1e-10
