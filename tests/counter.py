"""The smallest task a Run drives: it counts its steps. For tests of the Run's machinery (timelines, admission,
threads, export), not of a model. It has no ``shared_data``, so a Run's timeline keeps its moments as pictures only."""

from __future__ import annotations

import numpy as np


class Counter:
    def reset(self, params):
        self.n = 0

    def step(self, params):
        self.n += 1
        return {"n": float(self.n)}

    def arrays(self):
        return {"n": np.array([self.n])}
