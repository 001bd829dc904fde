"""The approximate-inference pages' lab code: per page its figures (Plotly, no Streamlit) and its checks for
``genlab eval inference``."""
