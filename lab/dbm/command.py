"""Deep Boltzmann machines: train (greedy pretraining then joint PCD), evaluate (mean-field trace, AIS bound), benchmark."""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

from engine.tasks.dbm import DATASETS, TRAINING_PARAMS
from lab.commands import add_common, add_params, drive, params_from, warn_if_degenerate


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"hidden sizes are comma-separated integers, e.g. 500,1000 (got {text!r})") from err
    if len(sizes) not in (2, 3):
        raise argparse.ArgumentTypeError(f"give 2 or 3 hidden layer sizes, got {len(sizes)}")
    return sizes


def _epochs(text: str) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"epochs must be a number >= 0, got {text!r}") from err
    if not 0 <= value <= 10000:
        raise argparse.ArgumentTypeError(f"epochs must be between 0 and 10000, got {text}")
    return value


def add_train(p: argparse.ArgumentParser) -> None:
    add_params(p, TRAINING_PARAMS, skip=("greedy_updates",))
    p.add_argument("--greedy-epochs", type=_epochs, default=5.0, metavar="EPOCHS", help="epochs of RBM pretraining per layer; sets greedy_updates (default 5)")
    p.add_argument("--joint-epochs", type=_epochs, default=5.0, metavar="EPOCHS", help="epochs of joint training, algorithm 20.1 (default 5)")
    add_common(p)


def training_plan(args: argparse.Namespace, n_train: int) -> tuple[dict[str, Any], int]:
    """The training task's parameters from the options (``greedy_updates`` from ``--greedy-epochs``) and the number
    of steps: greedy updates for every hidden layer, then ``--joint-epochs`` of joint updates over ``n_train`` rows."""
    given = params_from(args, TRAINING_PARAMS, greedy_updates=0)
    per_epoch = math.ceil(n_train / min(given["batch_size"], n_train))
    params = TRAINING_PARAMS.complete({**given, "greedy_updates": round(args.greedy_epochs * per_epoch)})
    n_hidden_layers = 3 if params["n3"] > 0 else 2
    return params, params["greedy_updates"] * n_hidden_layers + round(args.joint_epochs * per_epoch)


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Train the training page's DBMTrainingTask with the page's parameters: greedy pretraining, then joint training."""
    from engine.device import configure_threads
    from engine.models.dbm_training import save_trained
    from engine.tasks.dbm import DBMTrainingTask, load_images

    configure_threads()
    dataset = args.dataset or TRAINING_PARAMS["dataset"].default
    data = load_images(dataset, args.data_root)
    params, steps = training_plan(args, len(data.train))
    task = DBMTrainingTask(args.data_root, data=data)
    sizes = "-".join(map(str, task.sizes(params, data.train.shape[1])))
    shown = ("mf_bound", "reconstruction")
    t0 = time.perf_counter()
    last = drive(task, params, steps, f"DBM {sizes}", postfix=lambda m: {k: f"{v:.3g}" for k, v in m.items() if k in shown or k.endswith("_reconstruction")})
    seconds = time.perf_counter() - t0
    trained = task.trained()
    extra = {
        "dataset": dataset, "data_source": data.source, "binarization": params["binarization"],
        "training": {**params, "greedy_epochs": args.greedy_epochs, "joint_epochs": args.joint_epochs, "seconds": round(seconds, 1)},
        "final_metrics": last,
    }  # fmt: skip
    save_trained(args.out, trained.dbm, trained.stack, trained.net, extra)
    return {"out": str(args.out), "sizes": list(task.sizes_), "updates": task.updates, "seconds": seconds, "final": last, "data_source": data.source}


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
    add_common(p, out=False)


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
    data = load_images(args.dataset or trained.extra.get("dataset", "mnist"), args.data_root)
    if not 1 <= args.n <= len(data.heldout):
        raise ValueError(f"--n must be between 1 and {len(data.heldout)}, got {args.n}")
    v = Binarized(data.heldout[: args.n], args.binarization, seed=args.seed).fixed
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
    from lab.dbm.bench import run_bench

    return run_bench([784, *args.hidden], args.batch_size, args.mf_iterations, args.seconds, args.device)
