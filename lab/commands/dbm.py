"""Deep Boltzmann machines: train (greedy pretraining then joint PCD), evaluate (mean-field trace, AIS bound), benchmark."""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

from engine.tasks.dbm import DATASETS, TRAINING_DEFAULTS
from lab.commands import warn_if_degenerate


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"hidden sizes are comma-separated integers, e.g. 500,1000 (got {text!r})") from err
    if len(sizes) not in (2, 3):
        raise argparse.ArgumentTypeError(f"give 2 or 3 hidden layer sizes, got {len(sizes)}")
    return sizes


def add_train(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="mnist", help="mnist (first 9000 images of the test split), digits, bars-stripes")
    p.add_argument("--hidden", type=_sizes, default=[500, 1000], help="hidden layer sizes, e.g. 500,1000 (or three: 500,500,1000)")
    p.add_argument("--binarization", choices=("dynamic", "fixed", "threshold"), default="dynamic")
    p.add_argument("--greedy-epochs", type=float, default=5.0, help="epochs of RBM pretraining per layer")
    p.add_argument("--joint-epochs", type=float, default=5.0, help="epochs of joint training (algorithm 20.1)")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--rbm-lr", type=float, default=TRAINING_DEFAULTS["rbm_lr"])
    p.add_argument("--lr", type=float, default=TRAINING_DEFAULTS["lr"], help="joint-training learning rate")
    p.add_argument("--momentum", type=float, default=TRAINING_DEFAULTS["momentum"])
    p.add_argument("--weight-decay", type=float, default=TRAINING_DEFAULTS["weight_decay"])
    p.add_argument("--mf-iterations", type=int, default=TRAINING_DEFAULTS["mf_iterations"])
    p.add_argument("--chains", type=int, default=TRAINING_DEFAULTS["n_chains"], help="persistent Gibbs chains")
    p.add_argument("--centering", action="store_true", help="centred gradients (Montavon & Mueller 2012)")
    p.add_argument("--no-inference-net", action="store_true", help="do not train the learned inference network")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-root", default=None, help="data folder (default: $GENLAB_DATA, the user cache, then ../shared/data)")
    p.add_argument("--out", required=True, help="checkpoint path (writes PATH.safetensors and PATH.json, float16)")


def train(args: argparse.Namespace) -> dict[str, Any]:
    from tqdm import tqdm

    from engine.device import configure_threads
    from engine.models.dbm_training import save_trained
    from engine.tasks.dbm import DBMTrainingTask

    configure_threads()
    task = DBMTrainingTask(root=args.data_root)
    hidden = list(args.hidden)
    params = {
        **TRAINING_DEFAULTS, "dataset": args.dataset, "n1": hidden[0], "n2": hidden[1], "n3": hidden[2] if len(hidden) > 2 else 0,
        "batch_size": args.batch_size, "binarization": args.binarization, "rbm_lr": args.rbm_lr, "lr": args.lr,
        "momentum": args.momentum, "weight_decay": args.weight_decay, "mf_iterations": args.mf_iterations,
        "n_chains": args.chains, "centering": args.centering, "inference_net": not args.no_inference_net, "seed": args.seed,
    }  # fmt: skip
    task.check_params(params)
    if args.greedy_epochs < 0 or args.joint_epochs < 0:
        raise ValueError("epochs must be >= 0")
    task.reset({**params, "greedy_updates": 1})
    per_epoch = max(1, math.ceil(len(task.binary) / args.batch_size))
    params["greedy_updates"] = int(round(args.greedy_epochs * per_epoch))
    task.reset(params)
    n_layers = len(task.sizes_) - 1
    joint = int(round(args.joint_epochs * per_epoch))
    total = params["greedy_updates"] * n_layers + joint
    bar = tqdm(total=total, desc=f"DBM {'-'.join(map(str, task.sizes_))}", unit="step", file=sys.stderr)
    t0 = time.perf_counter()
    phase_seconds: dict[str, float] = {}
    last: dict[str, float] = {}
    try:
        for _ in range(total):
            phase = task.phase
            ts = time.perf_counter()
            last = dict(task.step(params))
            phase_seconds[phase] = phase_seconds.get(phase, 0.0) + time.perf_counter() - ts
            _stop_if_diverged(task, last, phase, args)
            bar.update(1)
            if task.updates % 20 == 0:
                bar.set_postfix({k: f"{v:.3g}" for k, v in last.items() if k in ("mf_bound", "reconstruction") or k.endswith("_reconstruction")})
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    trained = task.trained()
    extra = {
        "dataset": args.dataset, "data_source": task.data.source, "binarization": args.binarization,
        "training": {**params, "greedy_epochs": args.greedy_epochs, "joint_epochs": args.joint_epochs, "seconds": round(seconds, 1)},
        "final_metrics": last,
    }  # fmt: skip
    save_trained(args.out, trained.dbm, trained.stack, trained.net, extra)
    return {"out": str(args.out), "sizes": list(task.sizes_), "updates": task.updates, "seconds": seconds, "phase_seconds": phase_seconds, "final": last, "data_source": task.data.source}


def _stop_if_diverged(task: Any, metrics: dict[str, float], phase: str, args: argparse.Namespace) -> None:
    """ValueError (so `genlab` exits 1 before anything is saved) when a parameter or a monitored
    quantity of the last update is NaN or Inf; the message names it and the learning rate to lower."""
    import torch

    bad = task.nonfinite()
    if bad is not None:
        kind = "NaN" if torch.isnan(task.parameter_tensors()[bad]).any() else "Inf"
        what = f"parameter {bad}"
    else:
        bad = next((k for k, v in metrics.items() if not math.isfinite(float(v))), None)
        if bad is None:
            return
        kind, what = ("NaN" if math.isnan(float(metrics[bad])) else "Inf"), bad
    if phase.startswith("greedy"):
        hint = f"lower --rbm-lr (now {args.rbm_lr:g}) or --momentum (now {args.momentum:g})"
    else:
        hint = f"lower --lr (now {args.lr:g}) or --momentum (now {args.momentum:g}), or add --centering"
    raise ValueError(f"training diverged at update {task.updates} ({phase}): {what} became {kind}; {hint}. Nothing was saved to {args.out}")


def add_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="checkpoint written by `genlab train dbm`")
    p.add_argument("--dataset", choices=DATASETS, default=None, help="default: the checkpoint's dataset")
    p.add_argument("--n", type=int, default=500, help="held-out images (default 500)")
    p.add_argument("--mf-iterations", type=int, default=30)
    p.add_argument("--binarization", choices=("fixed", "threshold"), default="fixed", help="how the test images are made binary (fixed: seed 0)")
    p.add_argument("--ais-chains", type=int, default=100)
    p.add_argument("--ais-betas", type=int, default=20000,
                   help="AIS inverse temperatures (default 20000: at 5000 and 10000 a few chains carry the weight of the shipped MNIST DBM)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-root", default=None)


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from tqdm import tqdm

    from engine.data import Binarized
    from engine.device import configure_threads
    from engine.eval.dbm_ais import ais_log_z, held_out_bound
    from engine.models.dbm_training import load_trained
    from engine.tasks.dbm import load_images

    configure_threads()
    trained = load_trained(args.path)
    dbm = trained.dbm
    data = load_images(args.dataset or trained.config.get("dataset", "mnist"), args.data_root)
    if not 1 <= args.n <= len(data.held_out):
        raise ValueError(f"--n must be between 1 and {len(data.held_out)}, got {args.n}")
    v = Binarized(data.held_out[: args.n], args.binarization, seed=args.seed).fixed
    with torch.no_grad():
        trace = dbm.mean_field(v, args.mf_iterations, init="uniform")
        one_pass = {
            "dbm_bottom_up": float(dbm.variational_bound(v, dbm.bottom_up_guess(v)).mean()),
            **({"inference_net": float(dbm.variational_bound(v, trained.net(v)).mean())} if trained.net is not None else {}),
        }
    t0 = time.perf_counter()
    bar = tqdm(total=100, desc="AIS log Z", unit="%", file=sys.stderr)
    last = [0]

    def progress(done: int, total: int) -> None:
        pct = int(100 * done / total)
        bar.update(pct - last[0])
        last[0] = pct

    train = Binarized(data.train[: args.n], args.binarization, seed=args.seed + 1).fixed
    log_z = ais_log_z(dbm, args.ais_chains, args.ais_betas, seed=args.seed, progress=progress, data=train)
    bar.close()
    ais_seconds = time.perf_counter() - t0
    warn_if_degenerate(log_z, "--ais-betas")
    bound = held_out_bound(dbm, v, log_z, args.binarization, args.mf_iterations)
    return {
        "sizes": list(dbm.sizes),
        "n_images": args.n,
        "binarization": f"{args.binarization} (seed {args.seed})" if args.binarization == "fixed" else args.binarization,
        "mf_init": "uniform",
        "mf_bound": [float(b) for b in trace.bound.double().mean(1)],
        "mf_change": [float(c) for c in trace.change.amax(1)],
        "one_pass_bound": one_pass,
        "log_z": {"ais": log_z.log_z, "base": "base rates of the odd layers on training images", "low": log_z.log_z_low, "high": log_z.log_z_high, "chains": log_z.n_chains, "betas": log_z.n_betas,
                  "ess": log_z.effective_sample_size, "degenerate": log_z.degenerate, "seconds": round(ais_seconds, 1)},
        "test_lower_bound": {"mean": bound.mean, "low": bound.low, "high": bound.high, "scheme": bound.scheme, "n": bound.n_examples, "mf_iterations": bound.mf_iterations},
    }


def add_bench(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hidden", type=_sizes, default=[500, 1000])
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--mf-iterations", type=int, default=10, help="mean-field iterations per joint update")
    p.add_argument("--seconds", type=float, default=3.0, help="time budget per measurement")
    p.add_argument("--device", default=None, help="cpu, cuda ... (default: CPU, plus CUDA when available)")


def bench(args: argparse.Namespace) -> dict[str, Any]:
    from lab.bench_dbm import run_bench

    return run_bench([784, *args.hidden], args.batch_size, args.mf_iterations, args.seconds, args.device)
