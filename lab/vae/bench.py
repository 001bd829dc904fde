"""`genlab bench vae`: the engine's live training against a plain PyTorch loop, and the manifold redraw rate.

Contender 1 (engine): a :class:`engine.run.Run` driving :class:`engine.tasks.vae.VAETask` in its
background thread at full speed, publishing snapshots (the decoder's parameters) at the pages' rate (engine.run.MAX_FPS).
Contender 2 (peer): the same MNIST 784-400-2 model (tanh MLPs, Bernoulli decoder, dynamic
binarization, Adam 1e-3, batch 100) as a plain ``for`` loop written here, with no live machinery
(its minibatch order from the same :class:`engine.data.EpochSampler`).
Both run in the same process, alternately, ``repeats`` times; the best rate of each is reported
(and the ratio of medians: on a shared machine single runs are noisy). Each computes in a thread of its own with
the configured threads, as in the lab server, while the bench's main thread computes with one and so holds no
OpenMP team that would slow them (engine.device).

The redraw rate times what the Manifold page does per frame: decode a 20 x 20 grid of z, tile the
400 means and encode the PNG the page hands to ``st.image``.
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.data import EpochSampler
from engine.device import configure_threads, in_training_thread
from engine.models.vae import VAE
from engine.run import Run
from engine.tasks.vae import TRAIN_PARAMS, VAETask, decoder_from_arrays, load_vae_data
from lab.pictures import png_bytes
from lab.vae.pictures import manifold_picture

PARAMS = TRAIN_PARAMS.defaults("mnist")
"""The training task's declared defaults for MNIST: 784-400-2, tanh, AEVB, dynamic binarization, Adam 1e-3, batch 100."""
PRETRAINED = Path(__file__).resolve().parents[2] / "assets" / "vae" / "mnist_z2"


class PlainVAE(nn.Module):
    """The peer: 784-400-2 encoder and 2-400-784 decoder written out by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(784, 400), nn.Tanh())
        self.enc_mu, self.enc_lv = nn.Linear(400, 2), nn.Linear(400, 2)
        self.dec = nn.Sequential(nn.Linear(2, 400), nn.Tanh(), nn.Linear(400, 784))

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        h = self.enc(x)
        mu, lv = self.enc_mu(h), self.enc_lv(h)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        rec = nn.functional.binary_cross_entropy_with_logits(self.dec(z), x, reduction="none").sum(1)
        kl = -0.5 * (1 + lv - mu.pow(2) - lv.exp()).sum(1)
        return (rec + kl).mean()


def plain_loop_rate(train: torch.Tensor, steps: int, batch: int = 100) -> float:
    """Examples per second of the peer loop over ``steps`` minibatches."""
    torch.manual_seed(0)
    model = PlainVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = EpochSampler(len(train), torch.Generator().manual_seed(0))
    t0 = time.perf_counter()
    for _ in range(steps):
        x = torch.bernoulli(train[batches.next(batch)])
        opt.zero_grad(set_to_none=True)
        loss = model.loss(x)
        loss.backward()
        opt.step()
        float(loss.detach())
    return steps * batch / (time.perf_counter() - t0)


def engine_rate(steps: int, data_root: str | None) -> float:
    """Examples per second of a Run training VAETask in its background thread, snapshots published as usual."""
    run = Run(VAETask(root=data_root), PARAMS)
    try:
        t0 = time.perf_counter()
        run.start()
        while True:
            snap = run.snapshot()
            if snap.step >= steps:
                elapsed = time.perf_counter() - t0
                break
            time.sleep(0.125)  # as a playing page polls (lab.live, 8 batches a second); the step and the time are read together
        run.pause()
        return snap.step * PARAMS["batch_size"] / elapsed
    finally:
        run.close()


def manifold_frame(model: VAE, n: int = 20) -> bytes:
    """One redraw of the Manifold page: decode n x n z, tile the means, encode the PNG the page sends."""
    return png_bytes(manifold_picture(model.decoder, model.config.image_shape, n))


def manifold_rate(frames: int, data_root: str | None) -> tuple[float, str]:
    """Frames per second of :func:`manifold_frame`, decoding from a task's published arrays as the page does."""
    if Path(str(PRETRAINED) + ".safetensors").exists():
        model, _ = VAE.load(PRETRAINED)
        source = "pretrained assets/vae/mnist_z2"
    else:
        task = VAETask(root=data_root)
        task.reset(PARAMS)
        model = task.model
        source = "freshly initialized 784-400-2"
    decoder = decoder_from_arrays(model.config, {k: v.numpy() for k, v in model.decoder.state_dict().items()})
    model.decoder = decoder
    manifold_frame(model)
    t0 = time.perf_counter()
    for _ in range(frames):
        manifold_frame(model)
    return frames / (time.perf_counter() - t0), source


def run_bench(epochs: int, repeats: int, frames: int, data_root: str | None) -> dict[str, Any]:
    if epochs < 1 or repeats < 1 or frames < 1:
        raise ValueError(f"--epochs, --repeats and --frames must be >= 1, got {epochs}, {repeats}, {frames}")
    threads = configure_threads(elsewhere=1)
    data = load_vae_data("mnist", data_root)
    steps = math.ceil(epochs * len(data.train) / PARAMS["batch_size"])
    in_training_thread(lambda: plain_loop_rate(data.train, 5))  # warm-up
    engine_rates, plain_rates = [], []
    for _ in range(repeats):
        engine_rates.append(engine_rate(steps, data_root))
        plain_rates.append(in_training_thread(lambda: plain_loop_rate(data.train, steps)))
    redraw, source = manifold_rate(frames, data_root)
    best_engine, best_plain = max(engine_rates), max(plain_rates)
    return {
        "model": "MNIST 784-400-2 VAE, tanh, Bernoulli decoder, dynamic binarization, Adam, batch 100",
        "data": data.source,
        "torch_threads": threads,
        "steps_per_epoch": steps // epochs,
        "engine_examples_per_s": round(best_engine, 1),
        "plain_loop_examples_per_s": round(best_plain, 1),
        "engine_vs_plain": round(best_engine / best_plain, 3),
        "engine_vs_plain_median": round(statistics.median(engine_rates) / statistics.median(plain_rates), 3),
        "target_engine_vs_plain": ">= 0.95",
        "engine_runs": [round(r, 1) for r in engine_rates],
        "plain_runs": [round(r, 1) for r in plain_rates],
        "manifold_redraws_per_s": round(redraw, 1),
        "manifold_redraw": f"decode 20 x 20 z -> tile -> PNG, as the Manifold page sends it (the browser upscales); {source}",
        "target_redraws_per_s": ">= 20",
    }
