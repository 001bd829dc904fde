"""The VAE family in the lab: ``command`` (genlab train|eval|bench vae), ``views`` (what its pages draw with
Streamlit), ``pictures`` (the manifold and tiles, no Streamlit) and ``bench``."""
