"""RBM: train with CD-k / PCD, estimate the log-likelihood with AIS, benchmark CD-1 against scikit-learn."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import torch
from tqdm import tqdm

from engine.device import configure_threads
from engine.eval.ais import ais_log_z
from engine.models.rbm import RBM
from engine.tasks.rbm import TRAIN_PARAMS, RBMTrainTask, heldout_for_likelihood, heldout_log_likelihood, load_rbm_data
from lab.commands import add_common, add_params, drive, params_from, positive, warn_if_degenerate


def add_train(p: argparse.ArgumentParser) -> None:
    add_params(p, TRAIN_PARAMS, skip=("start",))
    p.add_argument("--epochs", type=positive(float), default=10.0, help="passes over the training rows (default 10)")
    add_common(p)


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Train the page's RBMTrainTask from scratch, with the page's parameters, for ``--epochs`` passes."""
    configure_threads()
    params = params_from(args, TRAIN_PARAMS, start="scratch")
    task = RBMTrainTask(args.data_root)
    n = len(load_rbm_data(params["dataset"], args.data_root).train)
    steps = max(1, round(args.epochs * (n // min(params["batch_size"], n))))
    t0 = time.perf_counter()
    drive(task, params, steps, f"RBM {params['dataset']}", postfix=lambda m: {"epoch": f"{m['epoch']:.2f}"})
    seconds = time.perf_counter() - t0
    task.save(args.out, params)
    data, rbm = task.data, task.rbm
    g = torch.Generator().manual_seed(params["seed"])
    with torch.no_grad():
        fe_train = float(rbm.free_energy(data.train[:1000] if rbm.gaussian else torch.bernoulli(data.train[:1000], generator=g)).mean())
    return {"out": str(args.out), "dataset": data.name, "images": data.source, "n_train": n, "seconds": round(seconds, 2),
            "updates": task.trainer.updates, "mean_free_energy_train": fe_train}  # fmt: skip


def add_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="checkpoint (PATH.safetensors + PATH.json)")
    p.add_argument("--ais", action="store_true", help="estimate log Z with annealed importance sampling")
    p.add_argument("--exact", action="store_true", help="also compute log Z exactly (smaller layer <= 24 units)")
    p.add_argument("--chains", type=int, default=100)
    p.add_argument("--betas", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    add_common(p, out=False)


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    configure_threads()
    rbm, extra = RBM.load(args.path)
    out: dict[str, Any] = {"path": str(args.path), "model": f"{rbm.n_visible}-{rbm.n_hidden} {rbm.config.visible} RBM", "dataset": extra["dataset"]}
    if not (args.ais or args.exact):
        return out
    data = load_rbm_data(extra["dataset"], args.data_root)
    _, scheme = heldout_for_likelihood(rbm, data, args.seed)
    out.update({"images": data.source, "heldout_examples": len(data.heldout), "scheme": scheme})
    if args.ais:
        with tqdm(total=100, desc="AIS", file=sys.stderr) as bar:
            t0 = time.perf_counter()
            res = ais_log_z(rbm, n_chains=args.chains, n_betas=args.betas, seed=args.seed, data=data.train, progress=lambda d, t: bar.update(round(100 * d / t) - bar.n))
        warn_if_degenerate(res, "--betas")
        ll = heldout_log_likelihood(rbm, data, res.log_z, res.log_z_low, res.log_z_high, args.seed)
        out.update({
            "ais": {"log_z": res.log_z, "log_z_low": res.log_z_low, "log_z_high": res.log_z_high, "chains": res.n_chains,
                    "betas": res.n_betas, "effective_sample_size": res.effective_sample_size, "degenerate": res.degenerate, "seconds": round(time.perf_counter() - t0, 1)},
            "heldout_log_likelihood": {"mean": ll.mean, "low": ll.low, "high": ll.high, "units": "nats per example"},
        })  # fmt: skip
    if args.exact:
        log_z = rbm.exact_log_z()
        out["exact"] = {"log_z": log_z, "heldout_log_likelihood": heldout_log_likelihood(rbm, data, log_z, log_z, log_z, args.seed).mean}
    return out


def add_bench(p: argparse.ArgumentParser) -> None:
    add_common(p, out=False)
    p.add_argument("--epochs", type=int, default=1, help="epochs over the data per timing")
    p.add_argument("--repeats", type=int, default=3, help="timings per implementation, interleaved; the best is reported")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for both (default: GENLAB_THREADS or all usable cores)")


def bench(args: argparse.Namespace) -> dict[str, Any]:
    from lab.rbm.bench import run_bench

    return run_bench(args.data_root, args.epochs, args.threads, args.repeats)
