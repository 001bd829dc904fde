"""Where the tensors live: CUDA > MPS > CPU, overridable with ``GENLAB_DEVICE``.

The lab serves many browser sessions from one process, and every session's
training thread shares torch's one intra-op thread pool. ``configure_threads``
sizes that pool once, so that sessions share the cores instead of each
asking for all of them.
"""

from __future__ import annotations

import os

import torch

_KNOWN = ("cuda", "mps", "cpu")


def pick_device(name: str | None = None) -> torch.device:
    """Return the device to compute on.

    ``name`` (or else the ``GENLAB_DEVICE`` environment variable) forces one of
    ``cuda``, ``cuda:N``, ``mps`` or ``cpu``; otherwise the first available of
    CUDA, Apple's MPS and the CPU.
    """
    name = name or os.environ.get("GENLAB_DEVICE") or None
    if name:
        kind = name.split(":")[0]
        if kind not in _KNOWN:
            raise ValueError(f"unknown device {name!r}: choose one of {', '.join(_KNOWN)} (e.g. cuda:0)")
        if kind == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"GENLAB_DEVICE={name} but CUDA is not available in this PyTorch build")
        if kind == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError(f"GENLAB_DEVICE={name} but Apple MPS is not available here")
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def usable_cores() -> int:
    """Cores this process may run on (respects CPU affinity and cgroup pinning)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def configure_threads(n: int | None = None) -> int:
    """Size torch's CPU thread pools once for the whole process; return the intra-op count.

    ``n`` or ``GENLAB_THREADS`` wins; the default is every usable core, capped at 8
    (beyond that small models gain nothing). Inter-op parallelism is set to 1: the
    lab's concurrency comes from its run threads, not from torch's graph scheduler.
    """
    n = n or int(os.environ.get("GENLAB_THREADS", "0")) or min(usable_cores(), 8)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or parallel work has started: keep what is there
        pass
    return n
