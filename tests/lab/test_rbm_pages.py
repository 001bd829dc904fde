"""The RBM and Gibbs chain pages under AppTest: they render, Step advances the run, AIS agrees with exact log Z."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
RBM_PAGE = str(ROOT / "pages" / "rbm.py")
GIBBS_PAGE = str(ROOT / "pages" / "gibbs.py")
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def test_rbm_page_opens_on_the_pretrained_mnist_model(monkeypatch):
    if not (SHARED / "mnist").exists():
        pytest.skip("MNIST is not in ../shared/data")
    monkeypatch.setenv("GENLAB_DATA", str(SHARED))
    at = AppTest.from_file(RBM_PAGE, default_timeout=120).run()
    assert not at.exception
    assert any("pretrained mnist 784-500" in c.value for c in at.caption)
    assert float(metric(at, "Epoch")) == 0.0
    at.button(key="rbm.step").click().run()
    assert not at.exception
    assert float(metric(at, "Epoch")) > 0.0


def test_rbm_page_without_mnist_shows_the_pretrained_filters_and_how_to_get_the_data(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))
    at = AppTest.from_file(RBM_PAGE, default_timeout=120).run()
    assert not at.exception
    assert "genlab data fetch mnist" in at.info[0].value
    assert len(at.get("image")) == 1
    assert "The pretrained mnist 784-500 PCD" in str(at.get("image")[0].proto)
    assert not {"rbm.play", "rbm.step", "rbm.reset"} & {b.key for b in at.button}  # no run controls: nothing can train without the data


def test_rbm_page_trains_bars_and_stripes_and_ais_matches_the_exact_log_z():
    at = AppTest.from_file(RBM_PAGE, default_timeout=120).run()
    at.radio(key="rbm.dataset").set_value("bars-stripes")
    at.select_slider(key="rbm.hidden").set_value(16)
    at.run()
    at.button(key="rbm.reset").click().run()
    assert not at.exception
    assert any("random start, 16 hidden units" in c.value for c in at.caption)
    at.selectbox(key="rbm.betas").set_value(1000)
    at.selectbox(key="rbm.chains").set_value(50)
    for _ in range(3):
        at.button(key="rbm.step").click().run()
    assert not at.exception
    at.button(key="rbm.ais").click().run()
    assert not at.exception
    ais = float(metric(at, "log Z at step"))
    exact = float(metric(at, "Exact log Z"))
    assert abs(ais - exact) < 0.1


def test_rbm_page_trains_digits_from_scratch_with_a_live_learning_rate():
    at = AppTest.from_file(RBM_PAGE, default_timeout=120).run()
    at.radio(key="rbm.dataset").set_value("digits")
    at.radio(key="rbm.start").set_value("scratch")
    at.select_slider(key="rbm.hidden").set_value(64)
    at.run()
    at.button(key="rbm.reset").click().run()
    at.select_slider(key="rbm.lr").set_value(3.0).run()
    at.button(key="rbm.step").click().run()
    assert not at.exception
    assert float(metric(at, "Epoch")) > 0.0


def test_gibbs_page_on_bars_and_stripes_reports_the_total_variation():
    at = AppTest.from_file(GIBBS_PAGE, default_timeout=120).run()
    at.selectbox(key="gibbs.model").set_value("bars-stripes").run()
    at.button(key="gibbs.reset").click().run()
    assert not at.exception
    for _ in range(5):
        at.button(key="gibbs.step").click().run()
    assert not at.exception
    assert int(metric(at, "Gibbs steps").replace(",", "")) == 5
    assert 0.0 <= float(metric(at, "Total variation")) <= 1.0


def test_gibbs_page_opens_on_the_pretrained_mnist_model_with_clamping():
    at = AppTest.from_file(GIBBS_PAGE, default_timeout=120).run()
    at.selectbox(key="gibbs.clamp").set_value("top").run()
    assert not at.exception
    at.button(key="gibbs.step").click().run()
    assert not at.exception
    assert int(metric(at, "Gibbs steps").replace(",", "")) == 1


def test_a_run_is_shared_only_under_a_key_declared_in_shared_runs():
    from lab.controls import SHARED_RUNS, shared_run

    assert "rbm.train" in SHARED_RUNS
    with pytest.raises(KeyError, match="'gibbs.chain' is not a shared run; shared runs: rbm.train"):
        shared_run("gibbs.chain")


def test_gibbs_page_samples_the_model_of_the_rbm_page():
    at = AppTest.from_file(str(ROOT / "lab" / "app.py"), default_timeout=120).run()
    at.switch_page(RBM_PAGE).run()
    at.radio(key="rbm.dataset").set_value("bars-stripes")
    at.select_slider(key="rbm.hidden").set_value(16)
    at.run()
    at.button(key="rbm.reset").click().run()
    for _ in range(3):
        at.button(key="rbm.step").click().run()
    at.switch_page(GIBBS_PAGE).run()
    at.selectbox(key="gibbs.model").set_value("given").run()
    assert not at.exception
    assert any("training step 3" in c.value for c in at.caption)
    at.button(key="gibbs.step").click().run()
    assert not at.exception
    assert int(metric(at, "Gibbs steps").replace(",", "")) == 1
    assert 0.0 <= float(metric(at, "Total variation")) <= 1.0


def test_gibbs_page_applies_the_cold_chain_preset_and_restarts_from_it():
    at = AppTest.from_file(GIBBS_PAGE, default_timeout=120).run()
    at.button(key="gibbs.step").click().run()
    at.selectbox(key="gibbs.preset").set_value("A cold chain does not mix").run()
    at.button(key="gibbs.apply").click().run()
    assert not at.exception
    assert at.selectbox(key="gibbs.model").value == "bars-stripes" and at.slider(key="gibbs.beta").value == 3.0
    assert at.select_slider(key="gibbs.chains").value == 400 and at.number_input(key="gibbs.seed").value == 0
    assert int(metric(at, "Gibbs steps").replace(",", "")) == 0  # started again from the preset
    assert at.query_params["gibbs.beta"] == "3" and at.query_params["gibbs.model"] == "bars and stripes 16-16 (exact distribution known)"  # the link holds the setup
    for _ in range(3):
        at.button(key="gibbs.step").click().run()
    assert int(metric(at, "Gibbs steps").replace(",", "")) == 3 and float(metric(at, "Total variation")) > 0.25
