"""One CLI module per model family: ``genlab train|eval|bench <family>`` (see lab/cli.py)."""
