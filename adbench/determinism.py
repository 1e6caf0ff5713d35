"""Deterministic execution of one cell: same seed, device and thread count give the same
numbers, whatever else the machine is doing (docs/architecture.md, "Reproducibility")."""

from __future__ import annotations

import contextlib
import os
import warnings
from typing import Iterator

import torch


@contextlib.contextmanager
def _algorithms(deterministic: bool) -> Iterator[None]:
    """Set torch's and cuDNN's deterministic switches (autotuning off when deterministic)
    for the body, then restore whatever they were."""
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = before[3] and not deterministic
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[2], before[3]


def torch_defaults() -> contextlib.AbstractContextManager[None]:
    """Run the body with torch's default algorithm choices (no deterministic mode), as a user
    would deploy a model: cost profiles are measured this way inside and outside a cell."""
    return _algorithms(False)


@contextlib.contextmanager
def deterministic(device: str) -> Iterator[set[str]]:
    """Run the body so that the same seed and thread count give the same numbers.

    On CUDA: ``torch.use_deterministic_algorithms(True, warn_only=True)``, cuDNN's
    deterministic kernels and no autotuning; yields a set that collects the operators torch
    warned have no deterministic implementation, for the row (other warnings pass through).
    On CPU torch's kernels are already deterministic for a fixed thread count (checked by
    ``tests/test_reproducibility.py`` under load); its deterministic mode would only print
    C++ warnings for kernels such as max-unpooling that cannot collide here, so it stays off.
    """
    found: set[str] = set()
    if not device.startswith("cuda"):
        yield found
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # read when cuBLAS starts
    with _algorithms(True), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        yield found
    for w in caught:
        text = str(w.message)
        if "does not have a deterministic implementation" in text:
            found.add(text.split(" does not have")[0].strip())
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
