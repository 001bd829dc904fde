"""The run bar's Timeline in Chromium: there from the start (so pausing does not move the page), and a kept moment
chosen in it is what the canvas shows, though it is older than the frames the canvas played."""

from __future__ import annotations

from tests.browser.conftest import assert_no_exception, wait_idle

MAIN_HEIGHT = "document.querySelector('[data-testid=stMain]').scrollHeight"
CANVAS_STEP = "(() => { const c = document.querySelector('.st-key-stage-picture canvas.genlab-frame'); return c ? Number(c.dataset.step) : null; })()"


def test_the_timeline_shows_a_kept_moment_and_pausing_does_not_move_the_page(open_page):
    page = open_page("rbm?rbm.dataset=digits+8x8&rbm.start=scratch", timeout=120_000)
    timeline = page.locator("[class*='-runbar']").get_by_role("button", name="Timeline")
    assert timeline.is_visible() and timeline.is_disabled()  # nothing kept yet
    page.locator("[class*='-runbar'] [class*='-play'] button").first.click()
    page.wait_for_function(f"{CANVAS_STEP} > 50", timeout=60_000)
    playing = page.evaluate(MAIN_HEIGHT)
    page.locator("[class*='-runbar'] [class*='-pause'] button").first.click()
    wait_idle(page)
    page.wait_for_timeout(1000)
    assert page.evaluate(MAIN_HEIGHT) == playing  # the Timeline was there all along: nothing appears at Pause
    latest = page.evaluate(CANVAS_STEP)
    assert timeline.is_enabled()
    timeline.click()
    slider = page.get_by_role("slider", name="Timeline")
    slider.focus()
    page.keyboard.press("Home")  # the first kept moment: step 0
    page.wait_for_function(f"{CANVAS_STEP} === 0", timeout=30_000)
    assert page.get_by_text(f"now (step {latest:,})").count() >= 1
    assert_no_exception(page)
