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
from engine.models.corruption import CORRUPTIONS
from engine.models.gsn import MODEL_KINDS, load_model, save_model
from engine.tasks.gsn import DATASETS, MNIST_TRAIN, TrainConfig, Trainer, load_split
from lab.commands import positive

STANDARD_REGIONS = ("right", "left", "bottom")


def add_train(parser: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    parser.add_argument("--model", dest="architecture", choices=MODEL_KINDS, default=d.model, help="dae (one hidden layer) or gsn (two, latent state carried)")
    parser.add_argument("--dataset", choices=DATASETS, default=d.dataset, help="mnist trains on test images 0..7999 (the split available offline)")
    parser.add_argument("--root", default=None, help="data folder (default $GENLAB_DATA or the user cache)")
    parser.add_argument("--hidden", type=positive(int), default=d.n_hidden, help="hidden units (first hidden layer of a GSN)")
    parser.add_argument("--hidden2", type=positive(int), default=d.n_hidden2, help="GSN second hidden layer")
    parser.add_argument("--corruption", choices=CORRUPTIONS, default=d.corruption)
    parser.add_argument("--noise", type=float, default=d.noise, help="corruption level (probability, or std for gaussian)")
    parser.add_argument("--hidden-noise", type=float, default=d.hidden_noise,
                        help="GSN: std of the Gaussian noise added to each hidden unit before and after its sigmoid (0: none)")  # fmt: skip
    parser.add_argument("--walkback", type=int, default=d.walkback, help="walkback steps per example (1 = one-step training)")
    parser.add_argument("--lr", type=positive(float), default=d.lr, help="Adam learning rate (above zero, at most 0.1)")
    parser.add_argument("--batch-size", type=positive(int), default=d.batch_size)
    parser.add_argument("--epochs", type=positive(float), default=20.0, help="passes over the training images (above zero)")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    parser.add_argument("--out", required=True, help="checkpoint path (writes .safetensors and .json)")


def train(args: argparse.Namespace) -> dict:
    configure_threads()
    device = pick_device(args.device)
    config = TrainConfig(args.architecture, args.dataset, args.hidden, args.hidden2, args.corruption, args.noise, args.hidden_noise,
                         args.walkback, args.lr, args.batch_size, args.seed)  # fmt: skip
    split = load_split(args.dataset, args.root)
    trainer = Trainer(config, split, device)
    n_steps = max(1, int(round(args.epochs * len(split.train) / args.batch_size)))
    start = time.perf_counter()
    initial = trainer.heldout_nll()
    bar = tqdm(range(n_steps), desc=f"train {args.architecture} walkback={args.walkback}", unit="step")
    metrics: dict[str, float] = {}
    for i in bar:
        metrics = trainer.train_step()
        if not np.isfinite(metrics["loss"]):
            raise ValueError(f"training diverged at step {i + 1} (loss {metrics['loss']}); lower --lr")
        if i % 50 == 0:
            bar.set_postfix(loss=f"{metrics['loss']:.2f}")
    final = trainer.heldout_nll()
    seconds = time.perf_counter() - start
    extra = {"dataset": args.dataset, "trained_steps": n_steps, "lr": args.lr, "batch_size": args.batch_size, "seed": args.seed,
             "heldout_reconstruction_nll": final, "binarization": "dynamic"}  # fmt: skip
    save_model(args.out, trainer.model, extra)
    return {"checkpoint": str(args.out), "model": args.architecture, "walkback": args.walkback, "steps": n_steps, "seconds": round(seconds, 1),
            "device": str(device), "loss": metrics.get("loss"), "heldout_reconstruction_nll_before": initial,
            "heldout_reconstruction_nll": final}  # fmt: skip


def add_eval(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a DAE or GSN checkpoint")
    parser.add_argument("--inpaint", nargs="+", choices=REGIONS, default=list(STANDARD_REGIONS),
                        help="clamped regions to score (right, left and bottom are always reported)")  # fmt: skip
    parser.add_argument("--root", default=None, help="data folder")
    parser.add_argument("--n-images", type=positive(int), default=500, help="held-out images to inpaint")
    parser.add_argument("--chain-steps", type=positive(int), default=50, help="clamped chain steps before classifying")
    parser.add_argument("--parzen-samples", type=positive(int), default=1000, help="chains run from noise for the Parzen estimate")
    parser.add_argument("--burn-in", type=positive(int), default=100, help="chain steps before a Parzen sample is taken")
    parser.add_argument("--seed", type=int, default=0)


def evaluate(args: argparse.Namespace) -> dict:
    configure_threads()
    model, config = load_model(args.path)
    split = load_split(config.get("dataset", "mnist"), args.root)
    if (split.height, split.width) != (model.config.height, model.config.width):
        raise ValueError(f"{args.path}: the model's images are {model.config.height}x{model.config.width}, the data's {split.height}x{split.width}")
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
        if config.get("dataset", "mnist") == "mnist" else f"the first {n} held-out images of {config.get('dataset')}",
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
    from lab.bench_gsn import run_benchmarks

    configure_threads()
    return run_benchmarks(args.path, args.seconds, args.chains)
