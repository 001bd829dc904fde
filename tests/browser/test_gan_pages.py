"""The GAN pages in a real browser: they render, and after Play their pictures change."""

import time

from playwright.sync_api import expect

from tests.browser.conftest import image_sources, wait_for_new_image

CHART_TITLE = ".js-plotly-plot .gtitle"


def wait_for_title_change(page, index: int, before: str, timeout: float = 60.0) -> str:
    """Poll until the title of the index-th Plotly chart (it names the step shown) differs from ``before``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        titles = page.locator(CHART_TITLE)
        if titles.count() > index:
            now = titles.nth(index).text_content()
            if now != before:
                return now
        page.wait_for_timeout(250)
    raise AssertionError(f"chart {index} did not change within {timeout} s (still {before!r})")


def test_game_page_animates_after_play(open_page, shoot):
    page = open_page("gan-game", timeout=120_000)
    before = page.locator(CHART_TITLE).first.text_content()
    assert "step 100 of 100" in before
    page.get_by_role("button", name="Play").first.click()
    during = wait_for_title_change(page, 0, before)
    assert "of 100" in during
    shoot(page, "gan-game-playing")


def test_gan_2d_picture_changes_after_play(open_page, shoot):
    page = open_page("gan-2d", timeout=120_000)
    before = page.locator(CHART_TITLE).first.text_content()
    assert "step 0" in before
    page.get_by_role("button", name="Play").click()
    wait_for_title_change(page, 0, before)
    shoot(page, "gan-2d-playing")
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_enabled(timeout=30_000)


def test_gan_mnist_samples_change_after_play(open_page, shoot):
    page = open_page("gan-mnist", timeout=120_000)
    before = image_sources(page)
    if not before:  # MNIST is not on this machine: the page says so instead
        assert page.locator("[data-testid='stAlert']").count() > 0
        return
    page.get_by_role("button", name="Play").click()
    wait_for_new_image(page, before, timeout=30.0)
    shoot(page, "gan-mnist-playing")
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_enabled(timeout=30_000)
