"""`genlab bench gan`: training speed of the default 2-D GAN against a plain PyTorch loop, and the 2-D page's redraw rate."""

from __future__ import annotations

import time

import numpy as np
import plotly.io as pio
import torch
from torch import nn

from engine.data import toy_points
from engine.models.gan import GAN2DConfig, GAN2DTrainer, mlp
from engine.run import Run
from engine.tasks.gan import GAN2DTask
from lab.gan.figures import LAYERS, gan2d_figure
from lab.run_vs_loop import run_vs_loop

ROUNDS = 3


def _rate(fn, n: int, warmup: int = 20) -> float:
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t0)


def plain_pytorch_loop(cfg: GAN2DConfig, target: np.ndarray):
    """The peer: the same networks, loss and optimizers written as the usual textbook loop (BCEWithLogits, labels 1/0)."""
    torch.manual_seed(cfg.seed)
    G, D = mlp(cfg.noise_dim, cfg.width_g, cfg.depth_g, 2), mlp(2, cfg.width_d, cfg.depth_d, 1)
    og = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(0.5, 0.999))
    od = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    data = torch.from_numpy(target)
    ones, zeros = torch.ones(cfg.batch_size, 1), torch.zeros(cfg.batch_size, 1)

    def step() -> None:
        real = data[torch.randint(len(data), (cfg.batch_size,))]
        fake = G(torch.randn(cfg.batch_size, cfg.noise_dim))
        ld = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        od.zero_grad()
        ld.backward()
        od.step()
        lg = bce(D(fake), ones)
        og.zero_grad()
        lg.backward()
        og.step()

    return step


def run_bench(steps: int = 600, frames: int = 60) -> dict:
    cfg = GAN2DConfig()
    target = toy_points("ring", 4000).points
    trainer = GAN2DTrainer(cfg, target)
    peer_step = plain_pytorch_loop(cfg, target)
    ours, peer = 0.0, 0.0
    for _ in range(ROUNDS):  # interleaved, best of each: on a shared machine the least disturbed round is the fair one
        ours = max(ours, _rate(trainer.train_step, steps // ROUNDS))
        peer = max(peer, _rate(peer_step, steps // ROUNDS))
    run = Run(GAN2DTask(), {}, max_fps=12)  # as the 2-D page makes it: every parameter at its declared default
    run.start()  # the background thread as the page runs it: evaluation every 25 steps, snapshots at <= 12 per second
    time.sleep(0.5)
    s0, t0 = run.snapshot().step, time.perf_counter()
    time.sleep(3.0)
    task_rate = (run.snapshot().step - s0) / (time.perf_counter() - t0)
    run.pause()
    centers = toy_points("ring", 1).centers

    def redraw(layers=LAYERS) -> None:
        run._publish()  # what the Run does per frame: arrays() copied into a new snapshot
        snap = run.snapshot()
        pio.to_json(gan2d_figure(snap.arrays, layers, 3.0, "nonsaturating", centers), validate=False)

    full = _rate(redraw, frames, warmup=3)
    points_only = _rate(lambda: redraw(("real", "fake")), frames, warmup=3)
    run.close()
    live = run_vs_loop(GAN2DTask, {}, max_fps=12)
    return {
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "config": {k: getattr(cfg, k) for k in ("loss", "optimizer", "width_g", "width_d", "depth_g", "depth_d", "batch_size", "noise_dim")},
        "train_steps_per_second": round(ours, 1),
        "rounds": f"best of {ROUNDS} interleaved rounds of {steps // ROUNDS} steps each",
        "peer_plain_pytorch_steps_per_second": round(peer, 1),
        "live_run_steps_per_second": round(task_rate, 1),
        "target_steps_per_second": 200,
        "figure_updates_per_second_all_layers": round(full, 1),
        "figure_updates_per_second_points_only": round(points_only, 1),
        "target_updates_per_second": 10,
        "live_run": {"task": "GAN2DTask at the GAN 2-D page's defaults", **live},
        "note": "figure rate = snapshot arrays + building the page's Plotly figure + JSON serialization (the server side of one redraw); the browser's drawing is not included",
    }
