"""The GSN pages in a real browser: they render, and after Play the filmstrip advances.

The lab needs MNIST's test files: the shared lab server reads them from GENLAB_DATA, else ../shared/data.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, image_sources

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = pytest.mark.skipif(
    not (Path(os.environ.get("GENLAB_DATA", SHARED)) / "mnist").exists(), reason="the GSN pages need MNIST (set GENLAB_DATA)"
)


def step_caption(page) -> str:
    return page.locator(".st-key-stage-picture .genlab-frame-caption").first.inner_text()


def wait_for_filmstrip_to_advance(page, before: list[str], timeout: float = 60.0) -> list[str]:
    """Poll until the filmstrip (the page's second picture) has a new source."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = image_sources(page)
        if len(now) > 1 and now[1] != before[1]:
            return now
        page.wait_for_timeout(250)
    raise AssertionError(f"the filmstrip did not change within {timeout} s")


def play_and_pause(page, shoot, name: str) -> None:
    before = image_sources(page)
    assert len(before) >= 2, "the page shows no filmstrip"
    page.get_by_role("button", name="Play").click()
    wait_for_filmstrip_to_advance(page, before)
    page.wait_for_timeout(1500)
    assert_no_exception(page)
    shoot(page, name)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_enabled(timeout=30_000)


def test_clamped_page_filmstrip_advances_after_play(open_page, shoot):
    page = open_page("gsn-clamped", timeout=120_000)
    assert "chain step 0" in step_caption(page)
    play_and_pause(page, shoot, "gsn-clamped-playing")
    assert "chain step 0" not in step_caption(page)


def test_chain_page_filmstrip_advances_after_play(open_page, shoot):
    page = open_page("gsn-chain", timeout=120_000)
    play_and_pause(page, shoot, "gsn-chain-playing")


def test_training_page_renders_and_trains(open_page, shoot):
    page = open_page("gsn-training", timeout=120_000)
    play_and_pause(page, shoot, "gsn-training-playing")
