"""GANs: train the 2-D toy GAN or the MNIST MLP GAN, evaluate mode coverage, benchmark speed."""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import torch

from engine import checkpoint
from engine.data import TOY_2D, load, toy_points
from engine.device import configure_threads
from engine.eval.neighbours import nearest_neighbours
from engine.models import gan, gan_mnist
from engine.models.gan import js_divergence_histogram, mode_quality
from engine.models.gan_mnist import fixed_noise
from engine.params import Params
from engine.tasks.gan import GAN2D_PARAMS, MNIST_PARAMS, GAN2DTask, MnistGANTask
from lab.commands import add_common, add_params, drive, flag, params_from, positive

IMAGE_DATA = ("mnist",)
CLI_PARAMS = Params(*(p for p in GAN2D_PARAMS if p.cli and p.name != "data"), *(p for p in MNIST_PARAMS if p.name not in GAN2D_PARAMS and p.name != "start"))
"""One option per parameter of either GAN (those both have share one declaration's range; ``--data`` picks the task)."""
NOT_TRAINING = ("data", "start", "heat_res", "user_points")
"""Parameters a checkpoint's ``extra`` does not record as training settings."""


def add_train(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="ring", choices=(*TOY_2D, *IMAGE_DATA), help="2-D target (the 2-D GAN page's task), or mnist: the MNIST GAN page's task on MNIST's test split (the only one offline)")
    add_params(p, CLI_PARAMS)
    for action in p._actions:
        if action.dest in CLI_PARAMS:
            action.help += _which_task(action.dest)
    p.add_argument("--steps", type=positive(int), default=3000, help="generator steps (default 3000)")
    add_common(p)


def _which_task(name: str) -> str:
    """What an option's help adds: the task it applies to, or how the MNIST GAN's declaration differs."""
    if name not in MNIST_PARAMS:
        return " (2-D only)"
    if name not in GAN2D_PARAMS:
        return " (--data mnist only)"
    two_d, mnist = GAN2D_PARAMS[name], MNIST_PARAMS[name]
    differs = [mnist.allowed()] if mnist.allowed() != two_d.allowed() else []
    if mnist.default != two_d.default:
        differs.append(f"default {mnist.default:g}" if isinstance(mnist.default, float) else f"default {mnist.default!r}")
    return f"; with --data mnist: {', '.join(differs)}" if differs else ""


def _given_for_other_task(args: argparse.Namespace, params: Params) -> list[str]:
    """The options given on the command line that the chosen task does not have."""
    return [flag(p.name) for p in CLI_PARAMS if p.name not in params and getattr(args, p.name, None) is not None]


def _quality(data: str, samples: np.ndarray, real: np.ndarray) -> dict:
    out = {"js_divergence": js_divergence_histogram(real, samples)}
    ps = toy_points(data, 1)
    if ps.centers is not None and data in ("ring", "grid"):
        out.update(mode_quality(samples, ps.centers, ps.mode_std))
    return out


def train(args: argparse.Namespace) -> dict:
    """Train the page's task (GAN2DTask, or MnistGANTask from scratch) with the page's parameters for ``--steps`` steps."""
    configure_threads()
    declared = MNIST_PARAMS if args.data in IMAGE_DATA else GAN2D_PARAMS
    other = _given_for_other_task(args, declared)
    if other:
        raise ValueError(f"{', '.join(other)} {'does' if len(other) == 1 else 'do'} not apply to --data {args.data}")
    if args.data in IMAGE_DATA:
        return _train_mnist(args)
    params = params_from(args, GAN2D_PARAMS, data=args.data)
    task = GAN2DTask()
    t0 = time.perf_counter()
    m = drive(task, params, args.steps, "2-D GAN", postfix=lambda m: {"loss_d": f"{m['loss_d']:.3f}", "loss_g": f"{m['loss_g']:.3f}"})
    seconds = time.perf_counter() - t0
    result = {"model": gan.MODEL_NAME, "data": args.data, "steps": args.steps, "seconds": round(seconds, 2), "loss_d": m["loss_d"], "loss_g": m["loss_g"]}
    result.update(_quality(args.data, task.trainer.sample(2500), toy_points(args.data, 2500, seed=params["seed"] + 1).points))
    extra = {"data": args.data, "steps": args.steps, **{k: v for k, v in params.items() if k not in NOT_TRAINING and k not in gan.SIZE_KEYS}}
    result["checkpoint"] = str(gan.write_checkpoint(args.out, task.trainer.model, task.trainer.cfg, extra))
    return result


def _train_mnist(args: argparse.Namespace) -> dict:
    params = params_from(args, MNIST_PARAMS, start="scratch")
    images = load("mnist", "test", root=args.data_root).as_float()
    task = MnistGANTask(images)
    t0 = time.perf_counter()
    m = drive(task, params, args.steps, "MNIST GAN", postfix=lambda m: {"loss_d": f"{m['loss_d']:.3f}", "loss_g": f"{m['loss_g']:.3f}"})
    seconds = time.perf_counter() - t0
    model, cfg = task.trainer.model, task.trainer.cfg
    _, dist = nearest_neighbours(model.images(fixed_noise(64, cfg.noise_dim)).reshape(64, -1), images)
    result = {
        "model": gan_mnist.MODEL_NAME, "data": "mnist/test", "steps": args.steps, "seconds": round(seconds, 1), "steps_per_second": round(args.steps / seconds, 1),
        "loss_d": m["loss_d"], "loss_g": m["loss_g"], "d_on_fake": m["d_fake"], "nearest_train_distance_mean": float(dist.mean()),
    }  # fmt: skip
    extra = {"data": "mnist/test", "steps": args.steps, **{k: v for k, v in params.items() if k not in NOT_TRAINING and k not in ("noise_dim", "width")}}
    result["checkpoint"] = str(gan_mnist.write_checkpoint(args.out, model, cfg, extra))
    return result


def add_eval(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="a checkpoint written by `genlab train gan --out`")
    p.add_argument("--samples", type=positive(int), default=2500)
    add_common(p, out=False)


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    configure_threads()
    ckpt = checkpoint.read(args.path, "gan")
    noise = torch.Generator().manual_seed(1)
    if ckpt.config.get("model") == gan_mnist.MODEL_NAME:
        model, _ = gan_mnist.model_from_checkpoint(ckpt)
        images = load("mnist", "test", root=args.data_root).as_float()
        samples = model.images(model.noise(args.samples, noise)).reshape(args.samples, -1)
        _, dist = nearest_neighbours(samples, images)
        return {"model": gan_mnist.MODEL_NAME, "samples": args.samples, "nearest_train_distance_mean": float(dist.mean()), "nearest_train_distance_min": float(dist.min())}
    model = gan.model_from_checkpoint(ckpt)
    with torch.no_grad():
        samples = model.G(model.noise(args.samples, noise)).numpy()
    data = ckpt.extra.get("data")
    if data not in TOY_2D:
        raise ckpt.fail(f"extra['data'] must name the 2-D target it was trained on ({', '.join(TOY_2D)}), got {data!r}")
    return {"model": gan.MODEL_NAME, "data": data, "samples": args.samples, **_quality(data, samples, toy_points(data, args.samples, seed=12345).points)}


def add_bench(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=int, default=600, help="training steps to time")
    p.add_argument("--frames", type=int, default=60, help="figure redraws to time")


def bench(args: argparse.Namespace) -> dict:
    from lab.gan.bench import run_bench

    configure_threads()
    return run_bench(args.steps, args.frames)
