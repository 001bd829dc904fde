"""Variational autoencoders (Kingma & Welling 2013): train, evaluate (ELBO, IWAE, quadrature), benchmark.

``genlab train vae`` drives the training page's task (:class:`engine.tasks.vae.VAETask`) with its
declared parameters (:data:`engine.tasks.vae.TRAIN_PARAMS`): the same options, ranges and defaults
as the page, ``--epochs`` passes over the training images.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from engine.tasks.vae import TRAIN_PARAMS
from lab.commands import add_common, add_params, drive, params_from, positive


def add_train(p: argparse.ArgumentParser) -> None:
    add_params(p, TRAIN_PARAMS)
    p.add_argument("--epochs", type=positive(float), default=10.0, help="passes over the training images (default 10)")
    p.add_argument("--half", action="store_true", help="store the weights as float16 (half the size)")
    add_common(p)


def train(args: argparse.Namespace) -> dict[str, Any]:
    from engine.device import configure_threads
    from engine.eval.vae_bounds import mean_elbo
    from engine.tasks.vae import VAETask, epoch_steps, heldout_images, heldout_rows, likelihood_name

    configure_threads()
    params = params_from(args, TRAIN_PARAMS)
    steps = epoch_steps(params["dataset"], params["batch_size"], args.epochs, args.data_root)
    task = VAETask(eval_every=10**9, root=args.data_root)
    t0 = time.perf_counter()
    last = drive(task, params, steps, f"VAE {params['dataset']} N_z={params['n_z']}", postfix=lambda m: {"elbo": f"{m['elbo']:.2f}", "kl": f"{m['kl']:.2f}"})
    seconds = time.perf_counter() - t0
    test = mean_elbo(task.model, heldout_rows(task.data))
    extra = {
        "dataset": params["dataset"], "data_source": task.data.source,
        "likelihood": likelihood_name(task.data, params["binarization"], task.config.decoder_variance),
        "training": {**params, "epochs": args.epochs, "steps": task.steps, "seconds": round(seconds, 1)},
        "test_elbo": test["elbo"], "test_images": heldout_images(task.data),
    }  # fmt: skip
    task.model.save(args.out, extra, half=args.half)
    return {
        "out": str(args.out), "steps": task.steps, "seconds": seconds, "train_elbo": last["elbo"], "test": test,
        "test_images": extra["test_images"], "data_source": task.data.source,
    }  # fmt: skip


def add_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="checkpoint written by `genlab train vae`")
    p.add_argument("--n", type=positive(int), default=500, help="the first N held-out examples are evaluated (default 500; the JSON's 'images' names them)")
    p.add_argument("--ks", type=positive(int), nargs="+", default=[1, 10, 100, 1000], help="k of the IWAE bounds L_k")
    p.add_argument("--seed", type=int, default=0, help="seed of the samples of q (default 0)")
    add_common(p, out=False)


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from engine.device import configure_threads
    from engine.eval.quadrature import log_px_quadrature
    from engine.eval.vae_bounds import active_units, iwae_bounds, mean_elbo, posterior_mean_variance
    from engine.models.vae import VAE
    from engine.tasks.vae import heldout_images, heldout_rows, likelihood_name, load_vae_data

    configure_threads()
    model, meta = VAE.load(args.path)
    data = load_vae_data(meta["dataset"], args.data_root)
    scheme = meta.get("training", {}).get("binarization", "dynamic")
    heldout = heldout_rows(data)
    x = heldout[: args.n]
    result: dict[str, Any] = {
        "path": str(args.path), "dataset": meta["dataset"], "data": f"{len(x)} held-out examples; {data.source}",
        "images": heldout_images(data, len(x)), "likelihood": likelihood_name(data, scheme, model.config.decoder_variance),
        "n_z": model.config.n_z, "decoder_variance": model.config.decoder_variance if model.config.likelihood == "gaussian" else None,
    }  # fmt: skip
    result.update(mean_elbo(model, x, seed=args.seed))
    result["iwae"] = {str(k): v for k, v in iwae_bounds(model, x, args.ks, seed=args.seed).items()}
    if model.config.n_z == 2:
        result["log_px_quadrature"] = float(log_px_quadrature(model, x).mean())
    else:
        result["log_px_quadrature"] = None
    result["active_units_images"] = heldout_images(data)
    result["active_units"] = active_units(model, heldout)
    result["posterior_mean_variance"] = [round(float(v), 4) for v in posterior_mean_variance(model, heldout)]
    return result


def add_bench(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epochs", type=int, default=2, help="training epochs timed per contender (MNIST, 9000 images per epoch offline)")
    p.add_argument("--repeats", type=int, default=5, help="alternating repetitions; the best of each is reported")
    p.add_argument("--frames", type=int, default=60, help="manifold redraws timed")
    add_common(p, out=False)


def bench(args: argparse.Namespace) -> dict[str, Any]:
    from lab.vae.bench import run_bench

    return run_bench(args.epochs, args.repeats, args.frames, args.data_root)
