"""Small training helpers shared by method plugins: seeding and a budgeted epoch loop."""

from __future__ import annotations

import random
import time
from typing import Callable, Iterator

import numpy as np
import torch

from .method import FitReport


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; returns a torch generator for data order."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def minibatches(n: int, batch_size: int, gen: torch.Generator, shuffle: bool = True) -> Iterator[torch.Tensor]:
    """Index batches over ``range(n)``; the last short batch is kept."""
    order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def train_epochs(
    step: Callable[[torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    n: int,
    *,
    epochs: int,
    batch_size: int,
    gen: torch.Generator,
    max_seconds: float | None = None,
    on_epoch_end: Callable[[int, float], None] | None = None,
) -> FitReport:
    """Run ``epochs`` passes of ``loss = step(batch_indices)``; stop early at ``max_seconds``.

    The loss curve (mean loss per epoch) and the real number of epochs go in the report, so
    a wall-clock budget that cut training short is visible in the result row.
    """
    report = FitReport()
    start = time.perf_counter()
    for epoch in range(epochs):
        total, count = 0.0, 0
        for idx in minibatches(n, batch_size, gen):
            optimizer.zero_grad(set_to_none=True)
            loss = step(idx)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
            report.steps += 1
        report.epochs = epoch + 1
        report.losses.append(total / max(count, 1))
        if on_epoch_end is not None:
            on_epoch_end(epoch, report.losses[-1])
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            report.notes["stopped_by_time_budget"] = True
            break
    report.wall_s = time.perf_counter() - start
    return report
