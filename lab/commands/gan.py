"""GANs: train the 2-D toy GAN or the MNIST MLP GAN, evaluate mode coverage, benchmark speed."""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from tqdm import tqdm

from engine import checkpoint
from engine.data import TOY_2D, load, toy_points
from engine.device import configure_threads
from engine.models.gan import LOSSES, OPTIMIZERS, GAN2D, GAN2DConfig, GAN2DTrainer, js_divergence_histogram, mode_quality
from engine.models.gan_mnist import MnistGANConfig, MnistGANTrainer, checkpoint_tensors, fixed_noise, model_from_checkpoint, nearest_images
from lab.commands import positive

IMAGE_DATA = ("mnist",)


def add_train(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="ring", choices=(*TOY_2D, *IMAGE_DATA), help="2-D target, or mnist (its test split: the only one offline)")
    p.add_argument("--loss", default="nonsaturating", choices=LOSSES)
    p.add_argument("--optimizer", default="adam", choices=OPTIMIZERS, help="2-D GAN only (the MNIST GAN uses Adam)")
    p.add_argument("--steps", type=positive(int), default=3000, help="generator steps")
    p.add_argument("--lr-g", type=positive(float), default=None, help="generator learning rate (default 1e-3 for 2-D, 2e-4 for MNIST)")
    p.add_argument("--lr-d", type=positive(float), default=None, help="discriminator learning rate (same defaults)")
    p.add_argument("--d-steps", type=positive(int), default=1, help="discriminator steps per generator step (2-D)")
    p.add_argument("--noise-dim", type=int, default=None, help="latent size (default 2 for 2-D, 32 for MNIST)")
    p.add_argument("--width", type=positive(int), default=64, help="hidden units per layer of G and D (2-D)")
    p.add_argument("--depth", type=positive(int), default=2, help="hidden layers of G and D (2-D)")
    p.add_argument("--width-g", type=positive(int), default=None, help="hidden units per layer of G (2-D; default --width)")
    p.add_argument("--width-d", type=positive(int), default=None, help="hidden units per layer of D (2-D; default --width)")
    p.add_argument("--depth-g", type=positive(int), default=None, help="hidden layers of G (2-D; default --depth)")
    p.add_argument("--depth-d", type=positive(int), default=None, help="hidden layers of D (2-D; default --depth)")
    p.add_argument("--batch", type=int, default=None, help="batch size (default 128 for 2-D, 64 for MNIST)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", default=None, help="data folder for mnist (default $GENLAB_DATA)")
    p.add_argument("--out", default=None, help="checkpoint path (writes .safetensors + .json)")


def _quality(data: str, samples: np.ndarray, real: np.ndarray) -> dict:
    out = {"js_divergence": js_divergence_histogram(real, samples)}
    ps = toy_points(data, 1)
    if ps.centers is not None and data in ("ring", "grid"):
        out.update(mode_quality(samples, ps.centers, ps.mode_std))
    return out


def train(args: argparse.Namespace) -> dict:
    configure_threads()
    if args.data in IMAGE_DATA:
        return _train_mnist(args)
    cfg = GAN2DConfig(
        loss=args.loss, optimizer=args.optimizer, lr_g=args.lr_g if args.lr_g is not None else 1e-3, lr_d=args.lr_d if args.lr_d is not None else 1e-3, d_steps=args.d_steps,
        noise_dim=args.noise_dim or 2, width_g=args.width_g or args.width, width_d=args.width_d or args.width,
        depth_g=args.depth_g or args.depth, depth_d=args.depth_d or args.depth, batch=args.batch or 128, seed=args.seed,
    )  # fmt: skip
    target = toy_points(args.data, 4000, seed=args.seed).points
    tr = GAN2DTrainer(cfg, target)
    t0 = time.perf_counter()
    for _ in tqdm(range(args.steps), desc="2-D GAN", unit="step", mininterval=1.0):
        m = tr.train_step()
        if not np.isfinite([m["loss_d"], m["loss_g"]]).all():
            raise SystemExit(f"error: the losses became non-finite at step {tr.steps}; lower --lr-g / --lr-d")
    seconds = time.perf_counter() - t0
    result = {"model": "gan-2d", "data": args.data, "steps": args.steps, "seconds": round(seconds, 2), "loss_d": m["loss_d"], "loss_g": m["loss_g"]}
    result.update(_quality(args.data, tr.sample(2500), toy_points(args.data, 2500, seed=args.seed + 1).points))
    if args.out:
        checkpoint.save(args.out, tr.tensors(), {"model": "gan-2d", "data": args.data, "steps": args.steps, **cfg.to_dict()})
        result["checkpoint"] = str(checkpoint.paths(args.out)[0])
    return result


def _train_mnist(args: argparse.Namespace) -> dict:
    images = load("mnist", "test", root=args.root).as_float()
    loss = args.loss if args.loss != "wgan-gp" else None
    if loss is None:
        raise SystemExit("error: the MNIST GAN trains with minimax, nonsaturating or leastsquares")
    cfg = MnistGANConfig(noise_dim=args.noise_dim or 32, loss=loss, lr_g=args.lr_g if args.lr_g is not None else 2e-4, lr_d=args.lr_d if args.lr_d is not None else 2e-4, batch=args.batch or 64, seed=args.seed)
    tr = MnistGANTrainer(cfg, images)
    t0 = time.perf_counter()
    bar = tqdm(range(args.steps), desc="MNIST GAN", unit="step", mininterval=1.0)
    for _ in bar:
        m = tr.train_step()
        if tr.steps % 200 == 0:
            bar.set_postfix(loss_d=f"{m['loss_d']:.3f}", loss_g=f"{m['loss_g']:.3f}")
        if not np.isfinite([m["loss_d"], m["loss_g"]]).all():
            raise SystemExit(f"error: the losses became non-finite at step {tr.steps}; lower --lr-g / --lr-d")
    seconds = time.perf_counter() - t0
    samples = tr.model.images(fixed_noise(64, cfg.noise_dim)).reshape(64, -1)
    _, dist = nearest_images(samples, images)
    result = {
        "model": "gan-mnist", "data": "mnist/test", "steps": args.steps, "seconds": round(seconds, 1), "steps_per_second": round(args.steps / seconds, 1),
        "loss_d": m["loss_d"], "loss_g": m["loss_g"], "d_on_fake": m["d_fake"], "nearest_train_distance_mean": float(dist.mean()),
    }  # fmt: skip
    if args.out:
        checkpoint.save(args.out, checkpoint_tensors(tr.model), {"model": "gan-mnist", "data": "mnist/test", "steps": args.steps, **cfg.to_dict()})
        result["checkpoint"] = str(checkpoint.paths(args.out)[0])
    return result


def add_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="a checkpoint written by `genlab train gan --out`")
    p.add_argument("--samples", type=int, default=2500)
    p.add_argument("--root", default=None, help="data folder for mnist checkpoints")


def evaluate(args: argparse.Namespace) -> dict:
    configure_threads()
    try:
        tensors, config = checkpoint.load(args.path)
    except checkpoint.CheckpointError as err:
        raise SystemExit(f"error: {err}") from err
    if config.get("model") == "gan-mnist":
        model, cfg = model_from_checkpoint(tensors, config)
        images = load("mnist", "test", root=args.root).as_float()
        samples = model.images(model.noise(args.samples, torch.Generator().manual_seed(1))).reshape(args.samples, -1)
        _, dist = nearest_images(samples, images)
        return {"model": "gan-mnist", "samples": args.samples, "nearest_train_distance_mean": float(dist.mean()), "nearest_train_distance_min": float(dist.min())}
    if config.get("model") != "gan-2d":
        raise SystemExit(f"error: {args.path} is not a GAN checkpoint (model = {config.get('model')!r})")
    cfg = GAN2DConfig(**{k: config[k] for k in GAN2DConfig.__dataclass_fields__ if k in config})
    model = GAN2D(cfg)
    try:
        model.load_state_dict(tensors)
    except RuntimeError as err:
        raise SystemExit(f"error: {args.path}: tensors do not fit the config ({err})") from err
    with torch.no_grad():
        samples = model.G(model.noise(args.samples, torch.Generator().manual_seed(1))).numpy()
    data = config["data"]
    return {"model": "gan-2d", "data": data, "samples": args.samples, **_quality(data, samples, toy_points(data, args.samples, seed=12345).points)}


def add_bench(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=int, default=600, help="training steps to time")
    p.add_argument("--frames", type=int, default=60, help="figure redraws to time")


def bench(args: argparse.Namespace) -> dict:
    from lab.bench_gan import run_bench

    configure_threads()
    return run_bench(args.steps, args.frames)

