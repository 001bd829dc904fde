"""Where the tensors live: CUDA > MPS > CPU, overridable with ``GENLAB_DEVICE``; and how many CPU threads each
thread of the process computes with.

PyTorch's CPU build runs its parallel kernels on GNU OpenMP, which gives every thread that starts a parallel
region a team of its own. Once the process holds more OpenMP threads than there are cores, the idle ones stop
spinning and sleep, and every one of the many small parallel regions of a training step pays a wake-up: measured
on 2 cores, the VAE's training step ran at 21k examples/s in a thread whose process held no other team, and at
11k beside one idle team of another thread. So each Run's thread sizes its own team (:func:`use_threads_here`),
and ``configure_threads`` can give every other thread ``elsewhere`` threads: a bench's main thread, which only
watches, gets 1 and never starts a team. The lab server keeps the default for its script threads (a Streamlit
script run is a short-lived thread, whose team ends with it); with 1, the RBM page's run fell from 69 to 16
steps/s in ``genlab bench live``, a cause not found.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import torch

_KNOWN = ("cuda", "mps", "cpu")
T = TypeVar("T")


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


def configure_threads(n: int | None = None, *, elsewhere: int | None = None, spare: int = 0) -> int:
    """Size torch's CPU threads for the whole process; return the count each training thread computes with.

    ``n`` or ``GENLAB_THREADS`` wins; the default is every usable core but ``spare`` (at least one), capped at 8
    (beyond that small models gain nothing). Training threads (:func:`use_threads_here` with :func:`training_threads`) get ``n``; every other
    thread gets ``elsewhere`` (default ``n``). Inter-op parallelism is set to 1: the lab's concurrency comes from
    its run threads, not from torch's graph scheduler.
    """
    global _training_threads
    n = n or int(os.environ.get("GENLAB_THREADS", "0")) or max(1, min(usable_cores() - spare, 8))
    _training_threads = n
    default = elsewhere or n
    if torch.get_num_threads() != default:
        torch.set_num_threads(default)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or parallel work has started: keep what is there
        pass
    return n


_training_threads: int | None = None


def training_threads() -> int:
    """The thread count a training thread computes with (:func:`configure_threads`'s ``n``)."""
    return _training_threads or configure_threads()


@functools.cache
def _thread_local_setters() -> tuple[object, object] | None:
    """``omp_set_num_threads`` of the GNU OpenMP torch runs on and MKL's ``MKL_Set_Num_Threads_Local`` inside
    libtorch_cpu (both take an int and set the calling thread's count only; MKL's lower-case spelling there is the
    Fortran one, which takes a pointer), or None where this build has neither."""
    lib = Path(torch.__file__).resolve().parent / "lib"
    try:
        omp = ctypes.CDLL(str(lib / "libgomp.so.1")).omp_set_num_threads
        mkl = ctypes.CDLL(str(lib / "libtorch_cpu.so")).MKL_Set_Num_Threads_Local
    except (OSError, AttributeError):
        return None
    return omp, mkl


def use_threads_here(n: int) -> None:
    """Compute with ``n`` threads in the calling thread only, leaving the other threads and the process default alone
    (where torch's build allows it; elsewhere this sets the process default too)."""
    torch.get_num_threads()  # torch's once-per-thread set-up adopts the process default first; what follows overrides it
    setters = _thread_local_setters()
    if setters is None:
        torch.set_num_threads(n)
        return
    omp, mkl = setters
    omp(ctypes.c_int(n))
    mkl(ctypes.c_int(n))


def in_training_thread(fn: Callable[[], T]) -> T:
    """``fn()`` computed in a thread of its own with :func:`training_threads` threads, as a Run's thread computes:
    what a bench's peer runs in, so that it and the engine work alike (the calling thread holds no team)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def body() -> None:
        use_threads_here(training_threads())
        try:
            result.append(fn())
        except BaseException as err:  # handed to the caller, which raises it
            failure.append(err)

    thread = threading.Thread(target=body, name="genlab-training")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]
