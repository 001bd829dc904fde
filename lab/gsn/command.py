"""Denoising autoencoders and GSNs: train (walkback or one-step), evaluate (inpainting, Parzen), benchmark chains."""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from tqdm import tqdm

from engine.device import configure_threads, pick_device
from engine.eval.inpainting import inpainting_score, train_pixel_classifier
from engine.eval.neighbours import nearest_neighbours
from engine.eval.parzen import PARZEN_WARNING, parzen_estimate
from engine.models.clamp import REGIONS
from engine.models.gsn import load_model
from engine.tasks.gsn import MNIST_TRAIN, TRAIN_PARAMS, GSNTrainTask, load_split
from lab.commands import add_common, add_params, drive, params_from, positive

STANDARD_REGIONS = ("right", "left", "bottom")


def add_train(parser: argparse.ArgumentParser) -> None:
    add_params(parser, TRAIN_PARAMS, skip=("start",))
    parser.add_argument("--epochs", type=positive(float), default=20.0, help="passes over the training images (above zero; default 20)")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    add_common(parser)


def train(args: argparse.Namespace) -> dict:
    """Train the training page's GSNTrainTask from scratch, with the page's parameters, for ``--epochs`` passes."""
    configure_threads()
    device = pick_device(args.device)
    params = params_from(args, TRAIN_PARAMS, start="scratch")
    task = GSNTrainTask(device, args.data_root)
    task.check_params(params)
    task.reset(params)
    initial = task.trainer.heldout_nll()
    n_steps = max(1, round(args.epochs * len(task.trainer.data) / params["batch_size"]))
    start = time.perf_counter()
    metrics = drive(task, params, n_steps, f"train {params['architecture']} walkback={params['walkback']}", postfix=lambda m: {"loss": f"{m['loss']:.2f}"})
    seconds = time.perf_counter() - start
    task.save(args.out, params)
    return {"checkpoint": str(args.out), "model": params["architecture"], "walkback": params["walkback"], "steps": n_steps, "seconds": round(seconds, 1),
            "device": str(device), "loss": metrics.get("loss"), "heldout_reconstruction_nll_before": initial,
            "heldout_reconstruction_nll": task.trainer.heldout_nll()}  # fmt: skip


def add_eval(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a DAE or GSN checkpoint")
    parser.add_argument("--inpaint", nargs="+", choices=REGIONS, default=list(STANDARD_REGIONS),
                        help="clamped regions to score (right, left and bottom are always reported)")  # fmt: skip
    parser.add_argument("--n-images", type=positive(int), default=500, help="held-out images to inpaint")
    parser.add_argument("--chain-steps", type=positive(int), default=50, help="clamped chain steps before classifying")
    parser.add_argument("--parzen-samples", type=positive(int), default=1000, help="chains run from noise for the Parzen estimate")
    parser.add_argument("--burn-in", type=positive(int), default=100, help="chain steps before a Parzen sample is taken")
    parser.add_argument("--seed", type=int, default=0)
    add_common(parser, out=False)


def evaluate(args: argparse.Namespace) -> dict:
    configure_threads()
    model, extra = load_model(args.path)
    dataset = extra.get("dataset", "mnist")
    split = load_split(dataset, args.data_root)
    if split.image_shape != (model.config.height, model.config.width):
        raise ValueError(f"{args.path}: the model's images are {model.config.height}x{model.config.width}, the data's {'x'.join(map(str, split.image_shape))}")
    n = min(args.n_images, len(split.heldout))
    classifier = train_pixel_classifier(split.train, split.train_labels, seed=args.seed)
    regions = list(dict.fromkeys([*args.inpaint, *STANDARD_REGIONS]))
    inpainting = {}
    mean_image = split.train.mean(0)
    for region in tqdm(regions, desc="inpainting", unit="region"):
        score = inpainting_score(model, classifier, split.heldout[:n], split.heldout_labels[:n], region, mean_image, args.chain_steps, seed=args.seed)
        inpainting[region] = {"accuracy": score.accuracy, "floor_mean_fill_accuracy": score.mean_fill_accuracy,
                              "beats_floor": score.accuracy > score.mean_fill_accuracy, "blank_accuracy": score.blank_accuracy}  # fmt: skip
    intact = score.intact_accuracy
    samples = free_chain_samples(model, args.parzen_samples, args.burn_in, args.seed)
    half = len(split.heldout) // 2
    parzen = parzen_estimate(samples, split.heldout[:half], split.heldout[half:])
    _, dist = nearest_neighbours(samples, split.train)
    _, reference = nearest_neighbours(split.heldout, split.train)
    threshold = float(np.quantile(reference, 0.95))
    return {
        "checkpoint": str(args.path), "model": model.kind, "walkback": model.config.walkback, "noise": model.config.noise,
        "inpainting": inpainting, "classifier_accuracy_intact": intact, "n_images": n, "chain_steps": args.chain_steps,
        "images": f"MNIST test images {MNIST_TRAIN}-{MNIST_TRAIN + n - 1} (classifier and mean image: 0-{MNIST_TRAIN - 1})"
        if dataset == "mnist" else f"the first {n} held-out images of {dataset}",
        "parzen_log_likelihood": parzen.log_likelihood, "parzen_std_error": parzen.std_error, "parzen_sigma": parzen.sigma,
        "parzen_samples": args.parzen_samples, "parzen_note": "samples are the Bernoulli means of the last chain step; "
        "sigma chosen on the first half of the held-out images, scored on the second half. " + PARZEN_WARNING,
        "nearest_neighbour_distance_mean": float(dist.mean()),
        "fraction_far_from_training": float((dist > threshold).mean()), "far_threshold": threshold,
    }  # fmt: skip


@torch.no_grad()
def free_chain_samples(model, n: int, burn_in: int, seed: int) -> np.ndarray:
    """Bernoulli means of ``n`` chains run ``burn_in`` steps from coin-flip noise."""
    g = torch.Generator().manual_seed(seed)
    state = model.init_chain(torch.bernoulli(torch.full((n, model.config.n_visible), 0.5), generator=g))
    for _ in tqdm(range(burn_in), desc="free chains", unit="step"):
        state = model.chain_step(state, g)
    return state.mean.numpy()


def add_bench(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", default=None, help="DAE or GSN checkpoint to benchmark (default: the pretrained walkback DAE in assets/gsn)")
    parser.add_argument("--seconds", type=positive(float), default=3.0, help="time spent on each measurement")
    parser.add_argument("--chains", type=positive(int), default=100, help="parallel chains for the chain-step rate (the filmstrip always runs 64)")


def bench(args: argparse.Namespace) -> dict:
    from lab.gsn.bench import run_benchmarks

    configure_threads()
    return run_benchmarks(args.path, args.seconds, args.chains)
