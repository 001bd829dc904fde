"""The GAN pages in a real browser: they render, and after Play their pictures change."""

import time

from playwright.sync_api import expect

from tests.browser.conftest import image_sources, wait_for_new_image

CHART_TITLE = ".js-plotly-plot .gtitle"


def wait_for_title(page, containing: str, unlike: str | None = None, timeout: float = 60.0) -> str:
    """Poll until a Plotly chart's title contains ``containing`` (and differs from ``unlike``); return it.

    Plotly draws each chart in the browser after the script has finished, in no fixed order,
    so a chart is found by what its title says, not by its position.
    """
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        seen = page.locator(CHART_TITLE).evaluate_all("titles => titles.map(title => title.textContent || '')")
        for title in seen:
            if containing in title and title != unlike:
                return title
        page.wait_for_timeout(250)
    raise AssertionError(f"no chart title with {containing!r} other than {unlike!r} within {timeout} s (titles: {seen})")


def test_game_page_animates_after_play(open_page, shoot):
    page = open_page("gan-game", timeout=120_000)
    before = wait_for_title(page, "of 100")
    assert "step 100 of 100" in before
    page.get_by_role("button", name="Play").first.click()
    during = wait_for_title(page, "of 100", unlike=before)
    assert "step 100 of 100" not in during
    shoot(page, "gan-game-playing")


def test_gan_2d_picture_changes_after_play(open_page, shoot):
    page = open_page("gan-2d", timeout=120_000)
    before = wait_for_title(page, "Real vs generated")
    assert before.endswith("step 0")
    page.get_by_role("button", name="Play").click()
    wait_for_title(page, "Real vs generated", unlike=before)
    shoot(page, "gan-2d-playing")
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_enabled(timeout=30_000)


def test_gan_mnist_samples_change_after_play(open_page, shoot):
    page = open_page("gan-mnist", timeout=120_000)
    before = image_sources(page)
    if page.get_by_text("genlab data fetch").count():  # MNIST is not on this machine: the pretrained samples and how to get it
        assert before and page.get_by_text("G(z) of the pretrained GAN").count()
        return
    page.get_by_role("button", name="Play").click()
    wait_for_new_image(page, before, timeout=60.0)
    shoot(page, "gan-mnist-playing")
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_enabled(timeout=30_000)
