"""The frame renderer: live pictures drawn by the browser on a canvas, from raw uint8 frames.

A live picture is handed to the browser as bytes, not as a PNG: a small header (JSON) and the frames' pixels
(gray ``(H, W)`` or colour ``(H, W, 3)`` uint8, row-major). The browser draws them on a ``<canvas>``,
scaled nearest-neighbour, through one Streamlit Components v2 component (inline JavaScript, no build step,
no network). Measured against server-side PNGs through ``st.image``: see ``genlab bench live``.

Frames come in batches: the live panel sends every frame the run published since its last batch, each with the
time the run published it. The browser plays a batch at the pace it was produced, :data:`PLAY_DELAY` seconds
late (longer, up to :data:`MAX_DELAY`, while batches come late), so a chain plays at its steady, chosen rate even when batches arrive only a few times a second; slow
motion and single steps show every step. Frames that fall due together play one per browser frame; when the
browser falls further behind (more than :data:`CATCH_UP` due), the older ones are dropped, and at most
:data:`MAX_QUEUED` wait, so nothing queues without bound.

The old path (``st.image``) stays behind a flag for ``genlab bench live``: ``?renderer=png`` in the URL or
``GENLAB_RENDERER=png`` in the environment.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import streamlit as st

PLAY_DELAY = 0.35
"""The least time, in seconds, between a frame's publication and its display: room for the next batch to arrive
before the frame is due. When batches come later (a busy server), the browser waits longer, up to :data:`MAX_DELAY`."""
MAX_DELAY = 1.5
MAX_QUEUED = 120
"""The most frames the browser keeps waiting to be drawn, per picture; older ones are dropped."""
CATCH_UP = 3
"""Frames that fall due together (a browser frame came late) play one per browser frame, at most this many: when
more are due the browser has fallen behind, and the older ones are dropped."""
RENDERERS = ("canvas", "png")


@dataclass(frozen=True)
class Frame:
    """One picture of a run: ``pixels`` uint8 (H, W) or (H, W, 3), shown at ``step`` with its ``caption``; ``time``
    is when the run published it (``time.monotonic()`` seconds, the clock of :attr:`engine.run.Snapshot.time`)."""

    step: int
    pixels: np.ndarray
    time: float = 0.0
    caption: str = ""


HEADER = struct.Struct("<I")
"""The payload starts with the length of its JSON header (uint32, little-endian)."""


def pack(frames: Sequence[Frame], *, slot: str, width: int, at_once: bool = False) -> bytes:
    """The renderer's payload: header length, JSON header, then every frame's pixels one after another.

    All frames of a batch share one shape. The header names the picture's ``slot`` (the browser keeps one player
    per slot) and its display ``width`` in CSS pixels, and per frame its step, publication time and caption;
    ``at_once`` asks the browser to show the batch's last frame now and forget what it was going to play (a page
    run: the run as it is, or a moment of its past chosen in the Timeline).
    """
    if not frames:
        raise ValueError("a batch needs at least one frame")
    shape = frames[0].pixels.shape
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] != 3):
        raise ValueError(f"a frame is (H, W) gray or (H, W, 3) colour, got shape {shape}")
    for f in frames:
        if f.pixels.shape != shape or f.pixels.dtype != np.uint8:
            raise ValueError(f"every frame of a batch is uint8 of shape {shape}, got {f.pixels.dtype} {f.pixels.shape}")
    header = json.dumps({
        "slot": slot, "h": shape[0], "w": shape[1], "channels": 1 if len(shape) == 2 else 3, "width": int(width), "at_once": bool(at_once),
        "steps": [int(f.step) for f in frames], "times": [round(float(f.time), 4) for f in frames], "captions": [f.caption for f in frames],
    }, separators=(",", ":")).encode()  # fmt: skip
    return b"".join([HEADER.pack(len(header)), header, *(np.ascontiguousarray(f.pixels).tobytes() for f in frames)])


def pack_keep(slot: str) -> bytes:
    """The payload that tells the browser to keep showing what it has (nothing was published since the last batch)."""
    header = json.dumps({"slot": slot, "keep": True}, separators=(",", ":")).encode()
    return HEADER.pack(len(header)) + header


def unpack(payload: bytes) -> tuple[dict, list[np.ndarray]]:
    """The header and frames of a payload (what the browser reads; for tests)."""
    (n,) = HEADER.unpack_from(payload)
    header = json.loads(payload[HEADER.size : HEADER.size + n])
    if header.get("keep"):
        return header, []
    shape = (header["h"], header["w"]) + ((3,) if header["channels"] == 3 else ())
    size = int(np.prod(shape))
    body = payload[HEADER.size + n :]
    if len(body) != size * len(header["steps"]):
        raise ValueError(f"payload holds {len(body)} pixel bytes, the header announces {size * len(header['steps'])}")
    return header, [np.frombuffer(body, np.uint8, size, i * size).reshape(shape) for i in range(len(header["steps"]))]


def renderer() -> str:
    """``canvas`` (the default) or ``png`` (the old ``st.image`` path, for comparison), from the URL or the environment."""
    name = st.query_params.get("renderer") or os.environ.get("GENLAB_RENDERER", "canvas")
    return name if name in RENDERERS else "canvas"


PLAYER_JS = """
export default function ({ data, parentElement }) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    const n = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
    const head = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n)));
    if (head.keep && parentElement.__genlabView) return;  // nothing new: the canvas plays on
    const size = head.w * head.h * head.channels;
    const players = (window.__genlabPlayers = window.__genlabPlayers || {});
    let player = players[head.slot];
    if (!player || player.w !== head.w || player.h !== head.h || player.channels !== head.channels) {
        player = players[head.slot] = { queue: [], offset: Infinity, shown: null, latest: -Infinity, drawn: 0, dropped: 0,
                                        w: head.w, h: head.h, channels: head.channels };
    }
    player.batches = (player.batches || 0) + 1;
    if (head.at_once) { player.queue = []; player.latest = -Infinity; }  // a page run: this picture now, whatever its age
    const now = performance.now() / 1000;
    let late = 0;
    head.steps.forEach((step, i) => {
        const t = head.times[i];
        player.offset = Math.min(player.offset, now - t);  // the fastest delivery seen maps the run's clock to ours
        if (t <= player.latest) return;                    // already queued or shown (a page rerun sends its latest frame again)
        player.latest = t;
        player.received = (player.received || 0) + 1;
        late = Math.max(late, now - t - player.offset);
        player.queue.push({ step, t, caption: head.captions[i], pixels: bytes.slice(4 + n + i * size, 4 + n + (i + 1) * size) });
    });
    // the delay follows the latest batches' lateness, so frames that come in bunches still play one by one
    player.lates = [...(player.lates || []).slice(-15), late];
    player.delay = Math.min(MAX_DELAY, Math.max(PLAY_DELAY, Math.max(...player.lates) + 0.05));
    if (player.queue.length > MAX_QUEUED) {
        player.dropped += player.queue.length - MAX_QUEUED;
        player.queue.splice(0, player.queue.length - MAX_QUEUED);
    }

    // the same canvas from batch to batch (the component keeps its key); a new one when the picture's size changes
    let view = parentElement.__genlabView;
    if (!view || view.w !== head.w || view.h !== head.h || view.slot !== head.slot) {
        const canvas = document.createElement('canvas');
        canvas.className = 'genlab-frame';
        canvas.width = head.w;
        canvas.height = head.h;
        const caption = document.createElement('div');
        caption.className = 'genlab-frame-caption';
        const box = document.createElement('div');
        box.className = 'genlab-frame-box';
        box.append(canvas, caption);
        parentElement.replaceChildren(box);
        const context = canvas.getContext('2d');
        view = parentElement.__genlabView = { w: head.w, h: head.h, slot: head.slot, canvas, caption, context, image: context.createImageData(head.w, head.h) };
    }
    view.canvas.style.width = `${head.width}px`;
    const { canvas, caption, context, image } = view;
    player.draw = (frame) => {
        const rgba = image.data, px = frame.pixels;
        if (player.channels === 1) {
            for (let i = 0, j = 0; i < px.length; i++, j += 4) { rgba[j] = rgba[j + 1] = rgba[j + 2] = px[i]; rgba[j + 3] = 255; }
        } else {
            for (let i = 0, j = 0; i < px.length; i += 3, j += 4) { rgba[j] = px[i]; rgba[j + 1] = px[i + 1]; rgba[j + 2] = px[i + 2]; rgba[j + 3] = 255; }
        }
        context.putImageData(image, 0, 0);
        caption.textContent = frame.caption;
        caption.hidden = !frame.caption;
        canvas.dataset.step = frame.step;
        canvas.dataset.frame = `${head.slot}:${frame.step}@${frame.t}`;
        if (frame !== player.shown) player.drawn += 1;
        player.shown = frame;
    };
    if (head.at_once) player.draw(player.queue.splice(0).pop());  // a page run's picture: at once
    else if (player.shown) player.draw(player.shown);               // a new canvas starts from the picture on screen
    else player.draw(player.queue.shift());                         // a page's first picture: at once

    if (!player.ticking) {  // one clock per picture: draw the oldest frame that is due, one per browser frame
        player.ticking = true;
        const tick = () => {
            const due = performance.now() / 1000 - player.offset - player.delay;
            let waiting = 0;
            while (waiting < player.queue.length && player.queue[waiting].t <= due) waiting += 1;
            if (waiting > CATCH_UP) {  // the browser fell behind: keep the newest few, drop the older ones
                player.dropped += waiting - CATCH_UP;
                player.queue.splice(0, waiting - CATCH_UP);
            }
            if (waiting) player.draw(player.queue.shift());
            requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
    }
}
"""


def _player_js() -> str:
    return PLAYER_JS.replace("MAX_QUEUED", str(MAX_QUEUED)).replace("CATCH_UP", str(CATCH_UP)).replace("MAX_DELAY", str(MAX_DELAY)).replace("PLAY_DELAY", str(PLAY_DELAY))


_player = st.components.v2.component("genlab_frames", js=_player_js(), isolate_styles=False)


def keep(slot: str) -> None:
    """Tell the browser's picture ``slot`` that nothing is new: it keeps playing what it has (a fragment run must
    redraw every element it drew last time, and this costs a few bytes instead of the frames)."""
    _player(data=pack_keep(slot), key=slot, height="content")


def show(frames: Sequence[Frame], *, slot: str, width: int, at_once: bool = False) -> None:
    """Hand a batch of frames of one picture to the browser; it plays them (module docstring) in a canvas
    ``width`` CSS pixels wide (never wider than its column), each frame's caption under it. The slot is the
    component's key: the next batch updates the same canvas (call once per slot per script or fragment run);
    ``at_once`` as in :func:`pack`."""
    _player(data=pack(frames, slot=slot, width=width, at_once=at_once), key=slot, height="content")
