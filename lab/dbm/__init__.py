"""The DBM family in the lab: ``command`` (genlab train|eval dbm), ``views`` (what its pages draw with Streamlit),
``pictures`` (its pictures as arrays, no Streamlit), ``bench`` and ``home_pictures`` (the Home page's)."""
