"""lab.export: the PNG carries its settings in a text chunk, the GIF has the frames it was given, the ring keeps the last ones."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from lab.export import SETTINGS_KEY, FrameRing, frames_gif, settings_png


def picture(value: int, shape: tuple[int, int] = (8, 10)) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    out.flat[value % out.size] = 255
    return out


def test_the_png_is_the_picture_upscaled_by_a_whole_factor_with_its_settings_as_json():
    png = Image.open(io.BytesIO(settings_png(picture(3), {"lr": 0.05, "image": (0.0, 1.0), "page": "rbm"})))
    assert png.size == (640, 512)  # 10 px wide -> x64 to about 640 px
    assert json.loads(png.text[SETTINGS_KEY]) == {"image": [0.0, 1.0], "lr": 0.05, "page": "rbm"}
    assert np.array_equal(np.asarray(png)[::64, ::64], picture(3))


def test_the_gif_has_one_frame_per_picture_in_order():
    gif = Image.open(io.BytesIO(frames_gif([picture(i) for i in range(7)], fps=5, settings={"step": 6})))
    assert gif.n_frames == 7 and gif.info["duration"] == 200 and json.loads(gif.info["comment"]) == {"step": 6}
    gif.seek(4)
    assert np.array_equal(np.asarray(gif.convert("L"))[::64, ::64], picture(4))
    with pytest.raises(ValueError, match="no frames"):
        frames_gif([])


def test_the_ring_keeps_the_last_frames_of_the_latest_size_and_one_per_step():
    ring = FrameRing(size=5)
    for step in range(8):
        ring.add(step, picture(step))
    ring.add(7, picture(0))  # step 7 drawn again: replaced, not added
    assert [s for s, _ in ring.last(10)] == [3, 4, 5, 6, 7] and np.array_equal(ring.latest()[1], picture(0))
    ring.add(8, picture(1, (4, 4)))  # a new size (another dataset): the GIF holds only frames of that size
    assert [s for s, _ in ring.last(10)] == [8]
