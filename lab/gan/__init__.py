"""The GAN family in the lab: ``command`` (genlab train|eval|bench gan), ``figures`` (the game, 2-D and curve
figures in Plotly, no Streamlit), ``bench`` and ``home_pictures`` (the Home page's)."""
