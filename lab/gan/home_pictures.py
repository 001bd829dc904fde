"""Home-page pictures of the GAN pages, drawn with Pillow: ``python -m lab.gan.home_pictures``.

gan_game.png: trajectories of simultaneous (red), alternating (blue) and extragradient
(green) steps on V(a, b) = a*b from (1, 0.5) with step 0.2; gan_2d.png: the 2-D GAN's
"Balanced" preset after 3000 steps on the ring (D's output as the background, real points
blue, generated red); gan_mnist.png: the pretrained MNIST GAN's fixed-noise grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from engine import checkpoint
from engine.data import toy_points
from engine.models.game import bilinear_trajectory
from engine.models.gan import VIEW, GAN2DConfig, GAN2DTrainer, discriminator_grid
from engine.models.gan_mnist import fixed_noise, model_from_checkpoint
from engine.tasks.gan import PRETRAINED_MNIST
from lab.pictures import tile_grid

OUT = Path(__file__).resolve().parents[2] / "assets" / "pictures"
SIZE = 480


def _to_px(xy: np.ndarray, view: float) -> list[tuple[float, float]]:
    """Plane coordinates in [-view, view]^2 to pixels (y up)."""
    p = (np.asarray(xy) + view) / (2 * view) * SIZE
    return [(float(x), float(SIZE - y)) for x, y in p]


def game_picture() -> Image.Image:
    img = Image.new("RGB", (SIZE, SIZE), "white")
    d = ImageDraw.Draw(img)
    view = 2.0
    g = np.linspace(-view, view, 13)
    for a in g:  # the field (-b, a) as short grey strokes
        for b in g:
            v = np.array([-b, a]) * 0.06
            d.line(_to_px(np.array([[a, b], [a + v[0], b + v[1]]]), view), fill=(170, 170, 170), width=2)
    d.line(_to_px(np.array([[-view, 0], [view, 0]]), view), fill=(200, 200, 200))
    d.line(_to_px(np.array([[0, -view], [0, view]]), view), fill=(200, 200, 200))
    for rule, color in (("simultaneous", (214, 39, 40)), ("alternating", (31, 119, 180)), ("extragradient", (44, 160, 44))):
        traj = bilinear_trajectory(1.0, 0.5, 0.2, 160, rule)
        inside = np.hypot(traj[:, 0], traj[:, 1]) < 0.97 * view  # the outward spiral stops at the picture's edge
        d.line(_to_px(traj[: int(np.argmin(inside)) or len(traj)], view), fill=color, width=4)
    cx, cy = _to_px(np.zeros((1, 2)), view)[0]
    d.ellipse([cx - 7, cy - 7, cx + 7, cy + 7], fill=(255, 200, 0), outline="black")
    return img


def gan2d_picture() -> Image.Image:
    torch.manual_seed(0)
    ps = toy_points("ring", 4000, seed=0)
    tr = GAN2DTrainer(GAN2DConfig(), ps.points)
    for _ in range(3000):
        tr.train_step()
    heat = discriminator_grid(tr.model, "nonsaturating", 48)[::-1]  # rows top to bottom
    rgb = np.stack([1 - heat * 0.55, 1 - heat * 0.35, np.full_like(heat, 1.0)], -1)  # white -> light blue where D says real
    img = Image.fromarray((rgb * 255).astype(np.uint8)).resize((SIZE, SIZE), Image.NEAREST)
    d = ImageDraw.Draw(img)
    for pts, color in ((ps.points[:600], (31, 95, 191)), (tr.sample(600), (228, 87, 46))):
        for x, y in _to_px(pts, VIEW):
            d.ellipse([x - 2.5, y - 2.5, x + 2.5, y + 2.5], fill=color)
    return img


def mnist_picture() -> Image.Image:
    model, cfg = model_from_checkpoint(checkpoint.read(PRETRAINED_MNIST, "gan"))
    return Image.fromarray(tile_grid(model.images(fixed_noise(36, cfg.noise_dim)), ncols=6, pad=2, scale=3))


def main() -> None:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    game_picture().save(OUT / "gan_game.png")
    gan2d_picture().save(OUT / "gan_2d.png")
    mnist_picture().save(OUT / "gan_mnist.png")


if __name__ == "__main__":
    main()
