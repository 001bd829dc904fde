"""The VAE pages in a real browser: each renders, the manifold changes after Play, a click in the latent plane decodes.

The shared lab server reads ../shared/data (see conftest) so that the pages that show held-out images
have them; without that folder these tests skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import assert_no_exception, image_sources, wait_for_new_image, wait_idle

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
PAGES = ("vae-manifold", "vae-latent", "vae-posterior", "vae-training")
pytestmark = pytest.mark.skipif(not (SHARED / "mnist").exists(), reason="../shared/data is absent")


@pytest.mark.parametrize("path", PAGES)
def test_every_vae_page_renders(open_page, shoot, path):
    page = open_page(path, timeout=120_000)
    page.locator("[data-testid='stImage'], canvas.genlab-frame, .js-plotly-plot").first.wait_for(timeout=60_000)
    assert_no_exception(page)
    shoot(page, path)


def test_manifold_changes_after_play(open_page):
    page = open_page("vae-manifold?vae.dataset=8x8+digits", timeout=120_000)
    page.locator("canvas.genlab-frame").first.wait_for(timeout=60_000)
    before = image_sources(page)
    page.locator("button:has-text('Play'):not([disabled])").first.click()
    wait_for_new_image(page, before, timeout=60.0)
    page.wait_for_timeout(1500)
    assert_no_exception(page)
    assert "Live: step" in page.locator(".genlab-frame-box").first.inner_text()
    page.locator("button:has-text('Pause')").first.click()


def test_click_in_the_latent_plane_decodes_there(open_page):
    page = open_page("vae-latent", timeout=120_000)
    decoded = page.locator("[data-testid='stImage']", has_text="decoded at z")
    decoded.wait_for(timeout=60_000)
    assert "(the star)" in decoded.inner_text()
    before = image_sources(page)
    plane = page.locator(".js-plotly-plot .nsewdrag").first
    plane.wait_for(timeout=60_000)  # Plotly draws after the script has finished
    box = plane.bounding_box()
    page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + 0.15 * box["height"])
    wait_for_new_image(page, before, timeout=60.0)
    wait_idle(page, 60_000)
    assert_no_exception(page)
    caption = decoded.inner_text()
    assert caption.startswith("decoded at z = (") and "(the star)" not in caption


def test_a_drawn_digit_is_encoded(open_page):
    page = open_page("vae-latent?vae.latent.src=my+drawing", timeout=120_000)
    page.locator("[data-testid='stImage']", has_text="decoded at z").wait_for(timeout=60_000)
    canvas = page.locator("[data-testid='stSidebar'] canvas").last
    canvas.wait_for(timeout=30_000)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 60, y + 60)
    page.mouse.down()
    for t in range(20):
        page.mouse.move(x + 60 + 8 * t, y + 60)
    for t in range(20):
        page.mouse.move(x + 220 - 5 * t, y + 60 + 9 * t)
    page.mouse.up()
    page.wait_for_timeout(2000)
    wait_idle(page, 60_000)
    assert_no_exception(page)
    assert page.get_by_text("your drawing (the star)").count() == 1
