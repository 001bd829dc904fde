"""The Home page in a real browser: it renders, names the lab, and links every lab page."""

from lab.catalog import LAB_PAGES


def test_home_renders_and_links_every_page(open_page, shoot):
    page = open_page("")
    assert "Generative Models Lab" in page.locator("h1").first.inner_text()
    links = page.locator("[data-testid='stPageLink'] a")
    titles = {links.nth(i).inner_text().strip() for i in range(links.count())}
    for lab_page in LAB_PAGES:
        assert any(lab_page.title in t for t in titles), f"no link to {lab_page.title} on Home"
    shoot(page, "home")


def test_every_page_opens_without_exception(open_page, shoot):
    for lab_page in LAB_PAGES:
        page = open_page(lab_page.url_path, timeout=120_000)
        shoot(page, f"page-{lab_page.url_path}")
