"""The RBM and Gibbs chain pages in a real browser: they render, and after Play their pictures change."""

import os
import time
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import PICTURES, image_sources


def wait_for_first_image_to_change(page, before: list[str], timeout: float = 30.0) -> list[str]:
    """Poll until the page's first picture (the filters, the chains) has a new source."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = image_sources(page)
        if now and now[0] != before[0]:
            return now
        page.wait_for_timeout(250)
    raise AssertionError(f"the first picture did not change within {timeout} s")


def pictures_once_drawn(page, timeout: float = 60_000) -> list[str]:
    """The page's picture sources, after waiting for the first one to be drawn (slow on a loaded machine)."""
    page.locator(PICTURES).first.wait_for(timeout=timeout)
    return image_sources(page)


def pause(page) -> None:
    """Pause and wait until the page shows it, so that the run stops using the CPU before the next test."""
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_enabled(timeout=30_000)


DATA = Path(os.environ.get("GENLAB_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))  # what the lab server reads


def test_rbm_page_filters_change_after_play(open_page, shoot):
    # without MNIST the page shows the pretrained model's filters but cannot train it: train the digits then
    page = open_page("rbm" if (DATA / "mnist").exists() else "rbm?rbm.dataset=digits+8x8", timeout=120_000)
    before = pictures_once_drawn(page)
    assert before, "no picture on the RBM page"
    page.get_by_role("button", name="Play").click()
    wait_for_first_image_to_change(page, before)
    shoot(page, "rbm-playing")
    pause(page)


def test_gibbs_page_chain_image_changes_after_play(open_page, shoot):
    page = open_page("gibbs", timeout=120_000)
    before = pictures_once_drawn(page)
    assert before, "no picture on the Gibbs chain page"
    page.get_by_role("button", name="Play").click()
    wait_for_first_image_to_change(page, before)
    shoot(page, "gibbs-playing")
    pause(page)
