"""``genlab bench dbm``: mean-field iterations per second and joint-training examples per second,
each against a plain NumPy implementation of the same update measured in the same run.

The NumPy peer computes exactly what the engine computes (eqs. 20.33-20.34 in the sequential
schedule; one update of algorithm 20.1 with a mean-field positive phase, one two-block Gibbs
sweep of persistent chains, and the momentum update), in float32 with NumPy's BLAS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from engine.device import configure_threads, pick_device
from engine.models.dbm import DBM
from engine.models.dbm_training import DBMTrainer, JointConfig
from engine.tasks.dbm import DBMTrainingTask
from lab.run_vs_loop import run_vs_loop


def _rate(fn: Callable[[], None], units: float, seconds: float, sync: Callable[[], None] = lambda: None) -> float:
    """units per second of ``fn`` over at least ``seconds`` (after one warm-up call)."""
    fn()
    sync()
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        sync()
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return n * units / elapsed


def _paired(ours: Callable[[], float], peer: Callable[[], float], rounds: int = 3) -> tuple[float, float]:
    """Medians of ``rounds`` alternating measurements, so that a busy machine slows both alike."""
    a, b = [], []
    for _ in range(rounds):
        a.append(ours())
        b.append(peer())
    return float(np.median(a)), float(np.median(b))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class NumpyDBM:
    """The same two-hidden-layer (or three) DBM in NumPy: mean field and one joint update."""

    def __init__(self, dbm: DBM, seed: int = 0):
        self.W = [w.cpu().numpy().astype(np.float32) for w in dbm.W]
        self.bias = [b.cpu().numpy().astype(np.float32) for b in dbm.bias]
        self.rng = np.random.default_rng(seed)
        self.vW = [np.zeros_like(w) for w in self.W]
        self.vb = [np.zeros_like(b) for b in self.bias]
        self.L = len(self.W)

    def layer_input(self, l: int, x: list[np.ndarray]) -> np.ndarray:
        a = self.bias[l]
        if l > 0:
            a = a + x[l - 1] @ self.W[l - 1]
        if l < self.L:
            a = a + x[l + 1] @ self.W[l].T
        return a

    def mean_field_step(self, v: np.ndarray, mu: list[np.ndarray]) -> list[np.ndarray]:
        x = [v, *mu]
        for block in ([l for l in range(1, self.L + 1) if l % 2], [l for l in range(1, self.L + 1) if l % 2 == 0]):
            for l in block:
                x[l] = _sigmoid(self.layer_input(l, x))
        return x[1:]

    def initial_mu(self, v: np.ndarray) -> list[np.ndarray]:
        mu, below = [], v
        for l in range(1, self.L + 1):
            scale = 1.0 if l == self.L else 2.0
            below = _sigmoid(scale * (below @ self.W[l - 1]) + self.bias[l])
            mu.append(below)
        return mu

    def gibbs_sweep(self, x: list[np.ndarray]) -> list[np.ndarray]:
        x = list(x)
        for block in (range(1, self.L + 1, 2), range(0, self.L + 1, 2)):
            for l in block:
                p = _sigmoid(self.layer_input(l, x))
                x[l] = (self.rng.random(p.shape, dtype=np.float32) < p).astype(np.float32)
        return x

    def joint_step(self, v: np.ndarray, chains: list[np.ndarray], mf_iter: int, lr: float, mom: float, wd: float) -> list[np.ndarray]:
        mu = self.initial_mu(v)
        for _ in range(mf_iter):
            mu = self.mean_field_step(v, mu)
        chains = self.gibbs_sweep(chains)
        d, m = [v, *mu], chains
        for l in range(1, self.L + 1):
            grad = d[l - 1].T @ d[l] / len(v) - m[l - 1].T @ m[l] / len(m[0]) - wd * self.W[l - 1]
            self.vW[l - 1] = mom * self.vW[l - 1] + lr * grad
        for l in range(self.L + 1):
            self.vb[l] = mom * self.vb[l] + lr * (d[l].mean(0) - m[l].mean(0))
            self.bias[l] += self.vb[l]
        for w, dw in zip(self.W, self.vW):
            w += dw
        return chains


def run_bench(sizes: list[int], batch: int = 100, mf_iter: int = 10, seconds: float = 3.0, device: str | None = None) -> dict[str, Any]:
    """The benchmark's JSON: per device, torch and NumPy rates for the same updates on random MNIST-sized data."""
    threads = configure_threads()
    devices = [device] if device else ["cpu"] + (["cuda"] if pick_device().type == "cuda" else [])
    g = torch.Generator().manual_seed(0)
    base = DBM(sizes).init_random(g, std=0.05)
    v_cpu = torch.bernoulli(torch.full((batch, sizes[0]), 0.2), generator=g)
    out: dict[str, Any] = {"sizes": sizes, "batch": batch, "mf_iterations_per_update": mf_iter, "threads": threads, "results": {}}

    peer = NumpyDBM(base)
    v_np = v_cpu.numpy()
    mu_np = peer.initial_mu(v_np)
    state = {"chains": [(np.random.default_rng(1).random((batch, n)) < 0.5).astype(np.float32) for n in sizes]}

    def np_joint() -> None:
        state["chains"] = peer.joint_step(v_np, state["chains"], mf_iter, 1e-3, 0.5, 1e-4)

    for name in devices:
        dev = torch.device(name)
        sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
        dbm = base.to(device=dev)
        v = v_cpu.to(dev)
        with torch.no_grad(), threadpool_limits(threads):  # NumPy's BLAS gets as many threads as torch
            mu = dbm.initial_mu(v)
            trainer = DBMTrainer(dbm, batch, torch.Generator(device=dev).manual_seed(0) if dev.type == "cuda" else torch.Generator().manual_seed(0))
            config = JointConfig(lr=1e-3, mf_iterations=mf_iter)
            rounds = 3 if dev.type == "cpu" else 1
            mf, np_mf = _paired(lambda: _rate(lambda: dbm.mean_field_step(v, mu), 1, seconds / rounds, sync), lambda: _rate(lambda: peer.mean_field_step(v_np, mu_np), 1, seconds / rounds), rounds)
            train, np_train = _paired(lambda: _rate(lambda: trainer.step(v, config, monitor=False), batch, seconds / rounds, sync), lambda: _rate(np_joint, batch, seconds / rounds), rounds)
        out["results"][name] = {
            "mean_field_iterations_per_s": mf,
            "numpy_mean_field_iterations_per_s": np_mf,
            "mean_field_speedup": mf / np_mf,
            "joint_training_examples_per_s": train,
            "numpy_joint_training_examples_per_s": np_train,
            "joint_training_speedup": train / np_train,
        }
    out["live_run"] = {"task": "DBMTrainingTask at the DBM training page's defaults", **run_vs_loop(DBMTrainingTask, {})}
    return out
