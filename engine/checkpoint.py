"""Checkpoints: tensors in a .safetensors file beside a .json file. Never pickle.

Every family writes one schema, and only through this module::

    {"family": "rbm" | "dbm" | "vae" | "gan" | "gsn" | ...,
     "config": {...what rebuilds the model: sizes, unit types...},
     "extra":  {...what it was trained on and how: dataset, hyperparameters, title...}}

:func:`write` writes ``path.safetensors`` and ``path.json`` (``path`` may carry either suffix
or none); :func:`read` reads both back as a :class:`Checkpoint` and raises
:class:`CheckpointError`, naming the file, for anything missing or malformed, for a JSON file
in another schema and for a checkpoint of another family.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file


SCHEMA = '{"family": ..., "config": {...}, "extra": {...}}'
"""The one JSON schema, as error messages name it."""


class CheckpointError(Exception):
    """A checkpoint file is missing, corrupt, or does not fit the model it is loaded into."""


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`read` returns: the family, its tensors, the config that rebuilds the model and the extra record."""

    family: str
    tensors: dict[str, torch.Tensor]
    config: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    """The .safetensors file it was read from (for error messages)."""

    def fail(self, message: str) -> CheckpointError:
        """A CheckpointError naming this checkpoint's JSON file: ``raise ckpt.fail("not a DBM config")``."""
        return CheckpointError(f"{paths(self.path)[1] if self.path is not None else 'checkpoint'}: {message}")


def paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """The (.safetensors, .json) pair for a checkpoint path given with or without a suffix."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in (".safetensors", ".json") else p
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


def _save(path: str | os.PathLike, tensors: dict[str, torch.Tensor], config: dict[str, Any]) -> Path:
    """Write the tensors (contiguous, on the CPU) and the JSON config; return the .safetensors path.

    Both files are written to temporary names first and renamed, so a crash never
    leaves half a checkpoint behind.
    """
    weights, meta = paths(path)
    weights.parent.mkdir(parents=True, exist_ok=True)
    tmp_w, tmp_m = weights.with_name(weights.name + ".tmp"), meta.with_name(meta.name + ".tmp")
    save_file({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}, str(tmp_w))
    tmp_m.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    os.replace(tmp_w, weights)
    os.replace(tmp_m, meta)
    return weights


def write(path: str | os.PathLike, family: str, tensors: dict[str, torch.Tensor], config: dict[str, Any], extra: dict[str, Any] | None = None) -> Path:
    """Write a checkpoint in the one schema (tensors as they are: cast before to store float16); return the .safetensors path."""
    if not (family.isidentifier() and family.islower()):
        raise ValueError(f"family must be a lower-case name like 'rbm' (the family's folder in lab/), got {family!r}")
    return _save(path, tensors, {"family": family, "config": dict(config), "extra": dict(extra or {})})


def read(path: str | os.PathLike, family: str, device: torch.device | str = "cpu") -> Checkpoint:
    """Read a checkpoint written by :func:`write`; CheckpointError naming the file for another schema or family."""
    tensors, meta = _load(path, device)
    json_file = paths(path)[1]
    if set(meta) != {"family", "config", "extra"} or not isinstance(meta["config"], dict) or not isinstance(meta["extra"], dict):
        keys = ", ".join(sorted(meta)) or "none"
        raise CheckpointError(f"{json_file}: not in the checkpoint schema {SCHEMA} (its keys: {keys})")
    if meta["family"] != family:
        raise CheckpointError(f"{json_file}: a {meta['family']!r} checkpoint, expected a {family!r} one")
    return Checkpoint(family, tensors, meta["config"], meta["extra"], paths(path)[0])


def _load(path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors (float32 unless integer) and the parsed JSON object of a checkpoint, whatever its schema."""
    weights, meta = paths(path)
    for f in (weights, meta):
        if not f.exists():
            raise CheckpointError(f"{f}: checkpoint file not found")
    try:
        config = json.loads(meta.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{meta}: not a valid JSON config ({err})") from err
    if not isinstance(config, dict):
        raise CheckpointError(f"{meta}: the config must be a JSON object")
    try:
        tensors = load_file(str(weights), device=str(device))
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{weights}: not a valid safetensors file ({err})") from err
    return {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}, config


def expect_shapes(path: str | os.PathLike, tensors: dict[str, torch.Tensor], shapes: dict[str, tuple[int, ...]]) -> None:
    """Raise CheckpointError naming the file unless ``tensors`` has exactly these names and shapes."""
    missing = sorted(set(shapes) - set(tensors))
    if missing:
        raise CheckpointError(f"{paths(path)[0]}: missing tensors {', '.join(missing)}")
    for name, shape in shapes.items():
        if tuple(tensors[name].shape) != tuple(shape):
            raise CheckpointError(f"{paths(path)[0]}: {name} has shape {tuple(tensors[name].shape)}, expected {tuple(shape)}")
