"""Deterministic execution of one cell: same seed, device and thread count give the same
numbers, whatever else the machine is doing (docs/architecture.md, "Reproducibility")."""

from __future__ import annotations

import contextlib
import os
import warnings
from typing import Iterator

import torch


@contextlib.contextmanager
def deterministic(device: str) -> Iterator[set[str]]:
    """Run the body with ``torch.use_deterministic_algorithms`` (and, on CUDA, cuDNN's
    deterministic kernels without autotuning). Yields a set that collects the operators torch
    warned have no deterministic implementation, for the row; other warnings pass through."""
    if device.startswith("cuda"):  # cuBLAS reads it when its handle is created
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    found: set[str] = set()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            yield found
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[2], before[3]
    for w in caught:
        text = str(w.message)
        if "does not have a deterministic implementation" in text:
            found.add(text.split(" does not have")[0].strip())
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
