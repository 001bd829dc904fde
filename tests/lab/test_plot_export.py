"""The figures a Plotly stage plot keeps for Export (lab.plot_export.FigureRing): one per redraw that changed the
picture, the newest for a step replacing an older one, and no more than asked."""

from __future__ import annotations

from lab.plot_export import FigureRing


def test_the_ring_keeps_changed_figures_one_per_step_and_at_most_its_size():
    ring = FigureRing(size=3)
    ring.add(1, "a")
    ring.add(1, "a")  # the same picture drawn again: kept once
    assert ring.last(5) == [(1, "a")]
    ring.add(1, "b")  # a newer picture of the same step replaces it
    assert ring.last(5) == [(1, "b")]
    for step, figure in [(2, "c"), (3, "d"), (4, "e")]:
        ring.add(step, figure)
    assert len(ring) == 3 and ring.last(5) == [(2, "c"), (3, "d"), (4, "e")]
    assert ring.last(2) == [(3, "d"), (4, "e")]
