"""The GSN family in the lab: ``command`` (genlab train|eval|bench gsn), ``views`` (what its pages draw with
Streamlit), ``pictures`` (palette tiles and filmstrips, no Streamlit), ``bench`` and ``home_pictures`` (the Home page's)."""
