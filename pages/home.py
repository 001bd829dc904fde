"""Home: what the lab is, and a card (picture + one sentence) for every lab page."""

from __future__ import annotations

import streamlit as st

from engine.device import pick_device
from lab.catalog import LAB_PAGES, by_section

st.title("Generative Models Lab")
st.markdown(
    "Train and sample the classic deep generative models of the *Deep Learning* book "
    "(chapters 19-20) and Kingma & Welling's VAE **live**: press **Play** and watch filters form, "
    "chains mix, latent spaces organise and games orbit. Every slider changes the running model."
)
st.caption(f"Computing on: **{pick_device()}**")

if not LAB_PAGES:
    st.info("No model lab is installed yet.")

for section, pages in by_section(LAB_PAGES).items():
    st.header(section)
    cols = st.columns(3)
    for i, page in enumerate(pages):
        with cols[i % 3].container(border=True):
            if page.picture_path is not None and page.picture_path.exists():
                st.image(str(page.picture_path), width="stretch")
            st.page_link(page.path.as_posix(), label=page.title, icon=page.icon)
            st.write(page.blurb)
