"""The lab's entry point: ``genlab`` (``streamlit run lab/app.py`` with the options of ``lab.cli.serve_command``).

Builds the navigation (a bar along the top, hidden in presenter mode) from ``lab.catalog`` and
sets the stage (lab.stage) every page is drawn on; each page lives in ``pages/``.
"""

from __future__ import annotations

import streamlit as st

from engine.device import configure_threads
from lab import janitor, stage
from lab.catalog import HOME, LAB_PAGES, by_section
from lab.views import crisp_pixels

# Cores the lab leaves its training runs without: the web server and the browser showing the pages need one. On 2
# cores a browser playing the RBM page took about a core, and the run's OpenMP team of 2 then trained at 25 steps/s
# against 56 with 1 thread (its threads waited for each other's core). A comment, not a docstring: this is the app's
# script, and Streamlit draws a bare string in it on every page.
SERVING_CORES = 1


def navigation() -> st.navigation:
    sections: dict[str, list] = {"": [st.Page(HOME.path, title=HOME.title, icon=HOME.icon, url_path=HOME.url_path, default=True)]}
    for section, pages in by_section(LAB_PAGES).items():
        sections[section] = [st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path) for p in pages]
    return st.navigation(sections, position="hidden" if stage.presenting() else "top")


def main() -> None:
    st.set_page_config(page_title="Generative Models Lab", page_icon=":material/science:", layout="wide")
    configure_threads(spare=SERVING_CORES)
    janitor.start()
    crisp_pixels()
    page = navigation()
    stage.frame(page.url_path)
    page.run()


main()
