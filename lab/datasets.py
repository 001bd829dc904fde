"""Datasets in the app: loaded once per process, with a progress bar while downloading.

A page calls ``load_dataset(name, split)`` before it builds its run; a download
shows a progress bar; missing files or no network show the data layer's message
(which files to put in which folder) and return None, so the page can offer an
offline dataset instead.
"""

from __future__ import annotations

import streamlit as st

from engine import data


@st.cache_resource(show_spinner=False)
def _load_cached(name: str, split: str) -> data.ImageSet:
    bar = st.progress(0.0, text=f"Downloading {name} ...")

    def progress(done: int, total: int, filename: str) -> None:
        if total:
            bar.progress(min(done / total, 1.0), text=f"Downloading {filename}: {done / 2**20:.1f} of {total / 2**20:.1f} MB")

    try:
        return data.load(name, split, progress=progress)
    finally:
        bar.empty()


def load_dataset(name: str, split: str = "train") -> data.ImageSet | None:
    """The image set, or None after showing why it is not available."""
    try:
        return _load_cached(name, split)
    except data.DataError as err:
        st.error(str(err), icon=":material/cloud_off:")
        return None
