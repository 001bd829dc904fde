"""Variational autoencoders (Kingma & Welling 2013): train, evaluate (ELBO, IWAE, quadrature), benchmark."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from engine.models.vae import DECODER_VARIANCES
from engine.tasks.vae import DATASETS, RULES, TRAIN_SCHEMES, DEFAULT_HIDDEN


def add_train(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=DATASETS, default="mnist", help="mnist (Bernoulli), frey (Gaussian), digits (8x8, Bernoulli)")
    p.add_argument("--latent", type=int, default=2, choices=(2, 5, 10, 20), help="N_z, the latent size")
    p.add_argument("--hidden", type=int, default=None, help="hidden units in encoder and decoder (default: 400 MNIST, 200 Frey and digits)")
    p.add_argument("--activation", choices=("tanh", "relu", "softplus"), default="tanh")
    p.add_argument(
        "--decoder-variance", choices=DECODER_VARIANCES, default="per_z",
        help="Gaussian data (frey): per_z = mean and variance per pixel from z (K&W appendix C.2), shared = one variance per pixel for every z",
    )  # fmt: skip
    p.add_argument("--rule", choices=RULES, default="aevb", help="learning rule: AEVB (reparameterized ELBO) or wake-sleep")
    p.add_argument("--binarization", choices=TRAIN_SCHEMES, default="dynamic", help="training binarization for Bernoulli data (test: fixed, seed 0)")
    p.add_argument("--epochs", type=float, default=10.0)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--beta", type=float, default=1.0, help="weight of the KL term (1 = the ELBO)")
    p.add_argument("--k", type=int, default=1, help="importance samples of the training objective (1 = ELBO, >1 = IWAE L_k)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-root", default=None, help="data folder (default: $GENLAB_DATA or the user cache)")
    p.add_argument("--half", action="store_true", help="store the weights as float16 (half the size)")
    p.add_argument("--out", required=True, help="checkpoint path (writes PATH.safetensors and PATH.json)")


def train(args: argparse.Namespace) -> dict[str, Any]:
    from tqdm import tqdm

    from engine.device import configure_threads
    from engine.eval.vae_bounds import mean_elbo
    from engine.tasks.vae import VAETask, heldout_images, likelihood_name, train_epochs

    configure_threads()
    params = {
        "dataset": args.dataset, "n_z": args.latent, "hidden": args.hidden or DEFAULT_HIDDEN[args.dataset], "activation": args.activation,
        "decoder_variance": args.decoder_variance, "rule": args.rule, "binarization": args.binarization, "lr": args.lr, "batch_size": args.batch_size, "beta": args.beta,
        "k": args.k, "seed": args.seed,
    }  # fmt: skip
    task = VAETask(eval_every=10**9, root=args.data_root)
    task.check_params(params)
    task.reset(params)
    total = max(1, int(round(args.epochs * task.presenter.n / args.batch_size)))
    bar = tqdm(total=total, desc=f"VAE {args.dataset} N_z={args.latent}", unit="step", file=sys.stderr)

    def progress(m: dict[str, float]) -> None:
        bar.update(1)
        if task.steps % 20 == 0:
            bar.set_postfix(elbo=f"{m['elbo']:.2f}", kl=f"{m['kl']:.2f}")

    t0 = time.perf_counter()
    last = train_epochs(task, params, args.epochs, progress)
    seconds = time.perf_counter() - t0
    bar.close()
    test = mean_elbo(task.model, task.presenter.test)
    extra = {
        "dataset": args.dataset, "data_source": task.data.source,
        "likelihood": likelihood_name(task.data, args.binarization, task.config.decoder_variance),
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
    p.add_argument("--n", type=int, default=500, help="the first N held-out examples are evaluated (default 500; the JSON's 'images' names them)")
    p.add_argument("--ks", type=int, nargs="+", default=[1, 10, 100, 1000], help="k of the IWAE bounds L_k")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-root", default=None)


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from engine.device import configure_threads
    from engine.eval.quadrature import log_px_quadrature
    from engine.eval.vae_bounds import active_units, iwae_bounds, mean_elbo, posterior_mean_variance
    from engine.models.vae import VAE
    from engine.tasks.vae import Presenter, heldout_images, likelihood_name, load_vae_data

    configure_threads()
    if args.n < 1:
        raise ValueError(f"--n must be at least 1, got {args.n}")
    if any(k < 1 for k in args.ks):
        raise ValueError(f"every k must be >= 1, got {args.ks}")
    model, meta = VAE.load(args.path)
    data = load_vae_data(meta["dataset"], args.data_root)
    scheme = meta.get("training", {}).get("binarization", "dynamic")
    presenter = Presenter(data, scheme, 0)
    x = presenter.test[: args.n]
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
    result["active_units"] = active_units(model, presenter.test)
    result["posterior_mean_variance"] = [round(float(v), 4) for v in posterior_mean_variance(model, presenter.test)]
    return result


def add_bench(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epochs", type=int, default=2, help="training epochs timed per contender (MNIST, 9000 images per epoch offline)")
    p.add_argument("--repeats", type=int, default=5, help="alternating repetitions; the best of each is reported")
    p.add_argument("--frames", type=int, default=60, help="manifold redraws timed")
    p.add_argument("--data-root", default=None)


def bench(args: argparse.Namespace) -> dict[str, Any]:
    from lab.vae.bench import run_bench

    return run_bench(args.epochs, args.repeats, args.frames, args.data_root)
