"""The DBM pages in a real browser: they render, and the mean-field animation advances after Play."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import image_sources, wait_for_new_image

ROOT = Path(__file__).resolve().parents[2]
NEEDS_ASSETS = pytest.mark.skipif(
    not (ROOT / "assets" / "dbm" / "mnist.safetensors").exists() or not (ROOT.parent / "shared" / "data" / "mnist").exists(),
    reason="needs assets/dbm/mnist and MNIST in ../shared/data",
)


def iteration_text(page) -> str:
    return page.get_by_text("of 40", exact=False).first.inner_text()


@NEEDS_ASSETS
def test_meanfield_animation_advances_after_play(open_page, shoot):
    page = open_page("dbm-meanfield?dbm.mf.n_iter=40")
    assert "Iteration 0 of" in iteration_text(page)
    before = image_sources(page)
    page.get_by_role("button", name="Play").click()
    wait_for_new_image(page, before, timeout=30)
    page.wait_for_function("() => !document.body.innerText.includes('Iteration 0 of')", timeout=30_000)
    page.wait_for_timeout(3000)
    shoot(page, "dbm-meanfield-playing")
    assert "Iteration 0 of" not in iteration_text(page)


@NEEDS_ASSETS
def test_sampling_page_renders_and_chains_move(open_page, shoot):
    page = open_page("dbm-sampling")
    before = image_sources(page)
    page.get_by_role("button", name="Play").click()
    wait_for_new_image(page, before, timeout=30)
    page.wait_for_timeout(3000)
    shoot(page, "dbm-sampling-playing")


def test_training_page_renders_and_trains(open_page, shoot):
    page = open_page("dbm-training")
    before = image_sources(page)
    page.get_by_role("button", name="Play").click()
    wait_for_new_image(page, before, timeout=30)
    page.wait_for_timeout(4000)
    shoot(page, "dbm-training-playing")
