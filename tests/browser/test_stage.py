"""The stage at a projector's 1280x720, on every lab page: the live picture on the first screen, no clipped text,
presenter mode, the keys, and a run that pauses when its page is left."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from lab.catalog import LAB_PAGES
from lab.export import SETTINGS_KEY
from tests.browser.conftest import wait_idle

PROJECTOR = {"width": 1280, "height": 720}

CLIPPED_TEXT = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] [data-testid="stWidgetLabel"] p, [data-testid="stSidebar"] [data-testid="stWidgetLabel"] p, '
    + '[data-testid="stMetricValue"] div, [data-testid="stMetricLabel"] p, button p, h1, h2, h3, [data-testid="stCaptionContainer"] p')]
    .filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map((e) => e.innerText.slice(0, 60))"""


def picture_box(page) -> dict:
    box = page.locator(".st-key-stage-picture").first.bounding_box()
    assert box is not None, "the page has no stage picture"
    return box


@pytest.fixture
def projector(page):
    page.set_viewport_size(PROJECTOR)
    return page


@pytest.mark.parametrize("lab_page", LAB_PAGES, ids=lambda p: p.url_path)
def test_the_picture_is_on_the_first_screen_and_no_text_is_clipped(projector, open_page, shoot, lab_page):
    page = open_page(lab_page.url_path)
    page.wait_for_timeout(1500)  # the first live frame
    box = picture_box(page)
    shoot(page, f"stage-{lab_page.url_path}")
    assert box["height"] > 150 and box["y"] + box["height"] <= PROJECTOR["height"], f"picture at {box}"
    assert page.evaluate(CLIPPED_TEXT) == []


@pytest.mark.parametrize("lab_page", LAB_PAGES, ids=lambda p: p.url_path)
def test_presenter_mode_hides_the_settings_and_keeps_the_picture_on_screen(projector, open_page, shoot, lab_page):
    page = open_page(f"{lab_page.url_path}?present=1")
    page.wait_for_timeout(1500)
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    box = picture_box(page)
    shoot(page, f"stage-{lab_page.url_path}-presenter")
    assert box["height"] > 150 and box["y"] + box["height"] <= PROJECTOR["height"], f"picture at {box}"
    assert page.evaluate(CLIPPED_TEXT) == []


def wait_until(page, running: bool) -> None:
    """Wait until the RBM page's run bar shows the run playing (Pause enabled) or not (Play enabled)."""
    button = "pause" if running else "play"
    page.wait_for_function(f"() => {{ const b = [...document.querySelectorAll('.st-key-rbm-{button} button')]; return b.length > 0 && b.every((x) => !x.disabled); }}", timeout=20_000)


DIGITS_RBM = "rbm?rbm.dataset=digits+8x8"
"""The RBM page on data every machine has (MNIST may be absent, as in CI)."""


def test_space_plays_and_pauses_and_p_toggles_presenter_mode(projector, open_page):
    page = open_page(DIGITS_RBM)
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
