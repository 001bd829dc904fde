"""The RBM family in the lab: ``command`` (genlab train|eval|bench rbm), ``views`` (what its pages draw with
Streamlit), ``pictures`` (its pictures as arrays, no Streamlit), ``bench`` and ``home_pictures`` (the Home page's)."""
