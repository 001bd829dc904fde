"""Per-thread CPU threads (engine.device): a training thread sizes its own OpenMP team and leaves every other
thread at the process default; a bench's peer runs in such a thread and its errors reach the caller."""

from __future__ import annotations

import threading

import pytest
import torch

from engine.device import configure_threads, in_training_thread, training_threads, use_threads_here


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    configure_threads(before)


def in_new_thread(fn):
    out = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join()
    return out[0]


def test_a_training_thread_gets_its_count_and_other_threads_keep_the_default(restore_threads):
    assert configure_threads(2, elsewhere=1) == 2 and training_threads() == 2
    assert torch.get_num_threads() == 1

    def training() -> int:
        use_threads_here(training_threads())
        return torch.get_num_threads()

    assert in_new_thread(training) == 2
    assert in_new_thread(torch.get_num_threads) == 1  # a thread started afterwards: the default, not the training count
    assert torch.get_num_threads() == 1
    assert in_training_thread(torch.get_num_threads) == 2


def test_an_error_in_a_training_thread_reaches_the_caller(restore_threads):
    configure_threads(2, elsewhere=1)

    def fails() -> None:
        raise ValueError("from the training thread")

    with pytest.raises(ValueError, match="from the training thread"):
        in_training_thread(fails)
