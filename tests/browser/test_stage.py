"""The stage at a projector's 1280x720, on every lab page: the live picture on the first screen, no clipped text,
presenter mode, the keys, and a run that pauses when its page is left."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from lab.catalog import LAB_PAGES
from lab.export import SETTINGS_KEY
from tests.browser.conftest import SHOTS, wait_idle

PROJECTOR = {"width": 1280, "height": 720}

CLIPPED_TEXT = """(roots) => [...document.querySelectorAll(roots.flatMap((root) => [
        '[data-testid="stWidgetLabel"] p', '[data-testid="stMetricValue"] div', '[data-testid="stMetricLabel"] *', 'button p',
        'h1', 'h2', 'h3', '[data-testid="stCaptionContainer"] p'].map((what) => `${root} ${what}`)).join(', '))]
    .filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map((e) => e.innerText.slice(0, 60))"""
"""The texts cut short (scrollWidth > clientWidth) under the given roots: labels, metrics, buttons, titles, captions. A
metric label is cut in its ellipsis box, one element above its <p> (an inline box, whose widths read 0): every element
inside the label is examined."""
EVERYWHERE = ["[data-testid='stMain']", "[data-testid='stSidebar']"]
PLOT_TEXT_OUTSIDE = """() => [...document.querySelectorAll('.genlab-plot')].flatMap((plot) => {
    const frame = plot.getBoundingClientRect();
    return [...plot.querySelectorAll('.gtitle, .g-xtitle text, .g-ytitle text')].filter((text) => {
        const box = text.getBoundingClientRect();
        return box.width > 0 && (box.left < frame.left - 1 || box.right > frame.right + 1 || box.top < frame.top - 1 || box.bottom > frame.bottom + 1);
    }).map((text) => text.textContent.slice(0, 60));
})"""
"""The titles of Plotly plots (the figure's and its axes') that stick out of their plot: Plotly cuts them there."""


def first_screen_box(page) -> dict:
    """The stage picture's box; on a machine without the page's data (CI has no MNIST), the notice that names
    the command fetching it, which must then be on the first screen instead."""
    picture = page.locator(".st-key-stage-picture")
    if picture.count():
        box = picture.first.bounding_box()
        assert box["height"] > 150, f"the picture is only {box['height']:.0f} px high"
        return box
    notice = page.locator("[data-testid='stMain']").get_by_text("genlab data fetch").first  # the settings may say it too, hidden in presenter mode
    assert notice.count(), "the page shows neither a stage picture nor how to fetch its data"
    return notice.bounding_box()


@pytest.fixture
def projector(page):
    page.set_viewport_size(PROJECTOR)
    return page


@pytest.mark.parametrize("lab_page", LAB_PAGES, ids=lambda p: p.url_path)
def test_the_picture_is_on_the_first_screen_and_no_text_is_clipped(projector, open_page, shoot, lab_page):
    page = open_page(lab_page.url_path)
    page.wait_for_timeout(1500)  # the first live frame, and any rerun it asks for
    wait_idle(page)
    box = first_screen_box(page)
    shoot(page, f"stage-{lab_page.url_path}")
    assert box["y"] + box["height"] <= PROJECTOR["height"], f"picture at {box}"
    assert page.evaluate(CLIPPED_TEXT, EVERYWHERE) == []
    assert page.evaluate(PLOT_TEXT_OUTSIDE) == []


@pytest.mark.parametrize("lab_page", LAB_PAGES, ids=lambda p: p.url_path)
def test_presenter_mode_hides_the_settings_and_keeps_the_picture_on_screen(projector, open_page, shoot, lab_page):
    page = open_page(f"{lab_page.url_path}?present=1")
    page.wait_for_timeout(1500)
    wait_idle(page)
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    box = first_screen_box(page)
    shoot(page, f"stage-{lab_page.url_path}-presenter")
    assert box["y"] + box["height"] <= PROJECTOR["height"], f"picture at {box}"
    assert page.evaluate(CLIPPED_TEXT, EVERYWHERE) == []


def wait_until(page, running: bool) -> None:
    """Wait until the RBM page's run bar shows the run playing (Pause enabled) or not (Play enabled)."""
    button = "pause" if running else "play"
    page.wait_for_function(f"() => {{ const b = [...document.querySelectorAll('.st-key-rbm-{button} button')]; return b.length > 0 && b.every((x) => !x.disabled); }}", timeout=20_000)


DIGITS_RBM = "rbm?rbm.dataset=digits+8x8"
"""The RBM page on data every machine has (MNIST may be absent, as in CI)."""


def test_space_plays_and_pauses_and_p_toggles_presenter_mode(projector, open_page):
    page = open_page(DIGITS_RBM)
    page.wait_for_function("() => window.__genlabStage === true", timeout=20_000)  # the stage's key script is loaded
    page.locator("[data-testid='stMain'] h1").click()  # focus on the page, not on a field
    page.keyboard.press("Space")
    wait_until(page, running=True)
    page.keyboard.press("Space")
    wait_until(page, running=False)
    page.keyboard.press("p")
    page.wait_for_function("() => new URLSearchParams(location.search).get('present') === '1'", timeout=20_000)
    wait_idle(page)
    assert not page.locator("[data-testid='stSidebar']").is_visible()


def test_a_run_left_playing_pauses_and_says_so_when_its_page_is_back(projector, open_page):
    page = open_page(DIGITS_RBM)
    page.get_by_role("button", name="Play").first.click()
    wait_until(page, running=True)
    page.locator("[data-testid='stTopNavLink']", has_text="Home").click()  # the same session, another page
    wait_idle(page)
    page.wait_for_timeout(9_000)  # longer than lab.controls.AWAY_PAUSE_SECONDS
    page.locator("[data-testid='stTopNavSection']", has_text="Boltzmann machines").click()
    page.locator("[data-testid='stTopNavDropdownLink']", has_text="RBM training").click()
    wait_idle(page)
    page.wait_for_selector("text=Paused while you were away", timeout=20_000)
    wait_until(page, running=False)


def test_export_saves_the_picture_with_its_settings_and_a_gif_of_the_frames_asked_for(projector, open_page, tmp_path):
    page = open_page(DIGITS_RBM)
    page.get_by_role("button", name="Play").first.click()
    wait_until(page, running=True)
    page.wait_for_timeout(6_000)  # more than 30 frames at up to 25 frames/s
    page.get_by_role("button", name="Pause").first.click()
    wait_until(page, running=False)
    page.get_by_role("button", name="Export").click()
    with page.expect_download() as png:
        page.get_by_role("button", name="Picture (PNG)").click()
    picture = Image.open(png.value.path())
    settings = json.loads(picture.text[SETTINGS_KEY])
    assert settings["page"] == "rbm" and settings["dataset"] == "digits" and settings["lr"] == 0.05 and settings["step"] > 10
    assert picture.width >= 400  # upscaled to about lab.export.EXPORT_WIDTH, by a whole factor
    if not page.get_by_role("button", name="Last 30 frames (GIF)").is_visible():
        page.get_by_role("button", name="Export").click()
    with page.expect_download() as gif:
        page.get_by_role("button", name="Last 30 frames (GIF)").click()  # the menu's default
    animation = Image.open(gif.value.path())
    assert animation.n_frames == 30 and json.loads(animation.info["comment"])["step"] == settings["step"]


def test_the_page_does_not_change_height_while_it_plays(projector, open_page):
    page = open_page(DIGITS_RBM)
    page.get_by_role("button", name="Play").first.click()
    wait_until(page, running=True)
    page.wait_for_timeout(2_000)  # the first charts
    heights = []
    for _ in range(20):  # 5 s
        heights.append(page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight"))
        page.wait_for_timeout(250)
    page.get_by_role("button", name="Pause").first.click()
    assert max(heights) - min(heights) <= 2, f"page height changed while playing: {sorted(set(heights))}"


@pytest.mark.parametrize("lab_page", LAB_PAGES, ids=lambda p: p.url_path)
def test_at_150_percent_zoom_with_the_sidebar_collapsed_the_picture_still_fits(browser, lab_url, lab_page):
    context = browser.new_context(viewport={"width": 853, "height": 480}, device_scale_factor=1.5)  # 1280x720 at 150%
    try:
        page = context.new_page()
        page.goto(f"{lab_url}/{lab_page.url_path}", wait_until="domcontentloaded")
        page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
        wait_idle(page)
        sidebar = page.locator("[data-testid='stSidebar']")
        if sidebar.count() and sidebar.is_visible():  # a page without its data may have no settings
            sidebar.hover()
            page.locator("[data-testid='stSidebarCollapseButton'] button").first.click()
        page.wait_for_timeout(1500)
        wait_idle(page)
        box = first_screen_box(page)
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"stage-{lab_page.url_path}-zoom150.png"))
        assert box["y"] + box["height"] <= 480, f"picture at {box} (CSS px of a 480 px high window)"
        assert page.evaluate(CLIPPED_TEXT, ["[data-testid='stMain']"]) == []
    finally:
        context.close()
