"""Where a run trains: in a thread of this process (the default), or in a Ray actor when ``GENLAB_RAY_ADDRESS``
names a Ray cluster (``genlab --ray ADDRESS``; engine.ray_run). Either way the caller gets the Run API."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from collections.abc import Callable, Mapping
from typing import Any

from engine.run import Run, Task

RAY_ADDRESS_ENV = "GENLAB_RAY_ADDRESS"


def ray_address() -> str | None:
    """The Ray cluster runs go to, or None for threads of this process."""
    return os.environ.get(RAY_ADDRESS_ENV, "").strip() or None


@functools.cache
def _connected(address: str) -> None:
    if "RAY_AUTH_MODE" not in os.environ and (Path.home() / ".ray" / "auth_token").exists():
        os.environ["RAY_AUTH_MODE"] = "token"  # the rule `ray start` follows (a cluster started here asks for it); read when Ray is imported
    try:
        import ray
    except ImportError:
        raise RuntimeError(f"{RAY_ADDRESS_ENV} is set ({address}) but Ray is not installed: pip install 'genlab[ray]'") from None
    try:
        ray.init(address=address, ignore_reinit_error=True, logging_level="warning", log_to_driver=False)
    except (ConnectionError, ray.exceptions.AuthenticationError) as err:
        raise RuntimeError(f"cannot reach the Ray cluster at {address} ({str(err).splitlines()[0]}); start one (`ray start --head --port 6379`), "
                           f"set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN if it asks for a token, or unset {RAY_ADDRESS_ENV} to train in this process") from None  # fmt: skip


def make_run(make_task: Callable[[], Task], params: Mapping[str, Any], **run_kwargs: Any) -> Any:
    """A :class:`engine.run.Run` of ``make_task()``, or with ``GENLAB_RAY_ADDRESS`` set an
    :class:`engine.ray_run.RayRun` whose run lives in an actor of that cluster."""
    address = ray_address()
    if address is None:
        return Run(make_task(), params, **run_kwargs)
    from engine.ray_run import RayRun

    _connected(address)
    return RayRun(make_task, params, **run_kwargs)
