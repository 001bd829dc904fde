"""Run tasks: what one training or sampling step of each model family is (see engine/run.py)."""
