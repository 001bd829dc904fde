"""Every lab page opens on a machine with no dataset and no network: it renders without an exception,
never reaches for the network on its own, and leaves the data folder as it found it.

A classroom laptop that is offline must not hang a page on a download; the pages say what is missing
(and which command fetches it) instead.
"""

from __future__ import annotations

import os

import pytest
from streamlit.testing.v1 import AppTest

from engine import data
from lab.catalog import LAB_PAGES


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty data folder, and a data layer whose downloads fail the test."""
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path))
    monkeypatch.setenv("GENLAB_THREADS", os.environ.get("GENLAB_THREADS", "1"))

    def no_download(name, remote, *args, **kwargs):
        raise AssertionError(f"a page started downloading {name}/{remote.filename}")

    monkeypatch.setattr(data, "_download", no_download)
    return tmp_path


@pytest.mark.parametrize("lab_page", LAB_PAGES, ids=lambda p: p.url_path)
def test_page_opens_offline_without_data(lab_page, offline):
    at = AppTest.from_file(str(lab_page.path), default_timeout=120).run()
    assert not at.exception, at.exception[0].message if at.exception else ""
    assert list(offline.iterdir()) == []
