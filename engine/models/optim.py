"""What the trainers share about optimizers."""

from __future__ import annotations

import torch


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate: a live change of eta acts on the next update."""
    for group in opt.param_groups:
        group["lr"] = lr
