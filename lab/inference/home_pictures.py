"""Write the Home-page pictures of the approximate-inference pages: ``python -m lab.inference.home_pictures``.

Their pictures are Plotly figures drawn in the browser, so each is the page's own stage picture, photographed in
headless Chromium (Debian's ``chromium``) at 1280x720 after the page's run has played a few seconds from its default
setup (seeded: the same picture every time). The amortization-gap page needs the MNIST test images
(``$GENLAB_DATA``); without them its picture is skipped and the script says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lab.catalog import LAB_PAGES, ROOT
from lab.cli import serve_command
from lab.live_bench import wait_healthy

PLAY_SECONDS = {"inference-em": 4.0, "which-kl": 4.0, "mean-field": 3.0, "sparse-coding": 8.0, "amortized-inference": 4.0, "gradient-estimators": 3.0}
"""How long each page plays before its picture is taken: long enough to show what the page teaches."""
PORT = 8766


def photograph(pages: dict[str, Path], chromium: str = "/usr/bin/chromium") -> list[str]:
    """Open each page, press Play, wait its PLAY_SECONDS, pause, and save the stage picture's PNG; the pages skipped."""
    from playwright.sync_api import sync_playwright

    url = f"http://127.0.0.1:{PORT}"
    server = subprocess.Popen(serve_command(PORT, headless=True) + ["--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
                              env={**os.environ, "GENLAB_THREADS": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    skipped = []
    try:
        wait_healthy(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            for path, out in pages.items():
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.goto(f"{url}/{path}")
                page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
                picture = page.locator(".st-key-stage-picture")
                if not picture.count():
                    skipped.append(path)
                    page.close()
                    continue
                page.get_by_role("button", name="Play").first.click()
                page.wait_for_timeout(1000 * PLAY_SECONDS[path])
                page.get_by_role("button", name="Pause").first.click()
                page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
                page.wait_for_timeout(2000)  # Plotly's last redraw
                picture.first.screenshot(path=str(out))
                print(f"wrote {out}", file=sys.stderr)
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return skipped


def main() -> None:
    pages = {p.url_path: ROOT / "assets" / "pictures" / p.picture for p in LAB_PAGES if p.path.name.startswith("inference_") and p.picture}
    skipped = photograph(pages)
    if skipped:
        print(f"no stage picture (data missing?) on: {', '.join(skipped)}", file=sys.stderr)


if __name__ == "__main__":
    main()
