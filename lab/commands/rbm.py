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
from engine.models.rbm_training import METHODS, RBMTrainer
from engine.tasks.rbm import DATASETS, check_train_params, heldout_for_likelihood, heldout_log_likelihood, load_rbm_data, save_checkpoint, train_config
from lab.commands import warn_if_degenerate


def add_train(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="mnist")
    p.add_argument("--split", default=None, help="data split (default: mnist train if present, else test; frey all)")
    p.add_argument("--root", default=None, help="data folder (default: $GENLAB_DATA or the user cache)")
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--method", choices=METHODS, default="pcd")
    p.add_argument("--k", type=int, default=1, help="Gibbs steps per update")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.5)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--centering", action="store_true")
    p.add_argument("--learn-precision", action="store_true",
                   help="Gaussian RBM: learn the visible precisions beta_v (default: keep them fixed, as the page does)")
    p.add_argument("--data-precision", action="store_true",
                   help="Gaussian RBM: start the precisions at 1 / pixel variance (default: at 1, as the page does; on Frey faces "
                        "that is up to 265 and the exact gradient then diverges at lr 3e-4 and above)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="checkpoint path (writes PATH.safetensors and PATH.json)")


def train(args: argparse.Namespace) -> dict[str, Any]:
    configure_threads()
    params = {
        "dataset": args.dataset, "start": "scratch", "hidden": args.hidden, "method": args.method, "k": args.k, "lr": args.lr,
        "momentum": args.momentum, "batch": args.batch, "weight_decay": args.weight_decay, "centering": args.centering, "seed": args.seed,
    }  # fmt: skip
    check_train_params(params)
    if args.epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {args.epochs}")
    data = load_rbm_data(args.dataset, args.root, args.split)
    g = torch.Generator().manual_seed(args.seed)
    gaussian = data.visible == "gaussian"
    rbm = RBM(data.train.shape[1], args.hidden, data.visible, learn_precision=gaussian and args.learn_precision, image_shape=data.image_shape)
    rbm.init_random(g).init_visible_from_data(data.train, unit_precision=not args.data_precision)
    trainer = RBMTrainer(rbm, g, data_mean=data.train.mean(0))
    config = train_config(params)
    n = len(data.train)
    t0 = time.perf_counter()
    for _ in tqdm(range(args.epochs), desc="epochs", file=sys.stderr):
        order = torch.randperm(n, generator=g)
        for i in range(0, n - args.batch + 1, args.batch):
            trainer.step(data.batch(order[i : i + args.batch], g), config)
        if not all(torch.isfinite(t).all() for t in rbm.parameters().values()):
            raise ValueError("training diverged (NaN or Inf in the parameters): lower --lr or --momentum")
    seconds = time.perf_counter() - t0
    training = {**{k: v for k, v in params.items() if k not in ("dataset", "start", "hidden")}, "epochs": args.epochs}
    save_checkpoint(rbm, data, args.out, training)
    with torch.no_grad():
        fe_train = float(rbm.free_energy(data.train[:1000] if gaussian else torch.bernoulli(data.train[:1000], generator=g)).mean())
    return {"out": str(args.out), "dataset": data.name, "split": data.split, "n_train": n, "seconds": round(seconds, 2),
            "updates": trainer.updates, "mean_free_energy_train": fe_train}  # fmt: skip


def add_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="checkpoint (PATH.safetensors + PATH.json)")
    p.add_argument("--ais", action="store_true", help="estimate log Z with annealed importance sampling")
    p.add_argument("--exact", action="store_true", help="also compute log Z exactly (smaller layer <= 24 units)")
    p.add_argument("--chains", type=int, default=100)
    p.add_argument("--betas", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", default=None, help="data folder (default: $GENLAB_DATA or the user cache)")


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    configure_threads()
    rbm, config = RBM.load(args.path)
    out: dict[str, Any] = {"path": str(args.path), "model": f"{rbm.n_visible}-{rbm.n_hidden} {rbm.config.visible} RBM", "dataset": config.get("dataset")}
    if not (args.ais or args.exact):
        return out
    data = load_rbm_data(config["dataset"], args.root, config.get("split"))
    _, scheme = heldout_for_likelihood(rbm, data, args.seed)
    out.update({"split": data.split, "heldout_examples": len(data.heldout), "scheme": scheme})
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
    p.add_argument("--root", default=None, help="data folder (default: $GENLAB_DATA or the user cache)")
    p.add_argument("--epochs", type=int, default=1, help="epochs over the data per timing")
    p.add_argument("--repeats", type=int, default=3, help="timings per implementation, interleaved; the best is reported")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for both (default: GENLAB_THREADS or all usable cores)")


def bench(args: argparse.Namespace) -> dict[str, Any]:
    from lab.bench_rbm import run_bench

    return run_bench(args.root, args.epochs, args.threads, args.repeats)
