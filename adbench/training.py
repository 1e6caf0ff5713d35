"""Small training helpers shared by method plugins: seeding, an epoch loop, and the cell's
time guard.

Budgets are epochs (docs/architecture.md, "Training budgets"): the wall clock never decides
how much a model is trained. The time guard only turns a cell that runs far past its limit
into an error row that says how to fix it; it never yields a silently shorter training.
"""

from __future__ import annotations

import contextlib
import contextvars
import random
import time
from typing import Callable, Iterator

import numpy as np
import torch

from .method import FitReport

#: (deadline on the monotonic clock, limit in seconds) of the cell being run, or None
_DEADLINE: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar("adbench_deadline",
                                                                                      default=None)


class TimeLimitExceeded(RuntimeError):
    """A cell ran past its time limit; the message names the limit and both fixes."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Run the body under a cell time limit of ``seconds`` (None: no limit), counted from now.

    :func:`train_epochs` checks it after every epoch (so does :func:`check_time_limit`, for
    plugins with their own loops) and raises :class:`TimeLimitExceeded` once it has passed.
    """
    token = _DEADLINE.set(None if seconds is None else (time.monotonic() + seconds, float(seconds)))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def check_time_limit(done: str = "") -> None:
    """Raise :class:`TimeLimitExceeded` when the current cell has passed its time limit."""
    guard = _DEADLINE.get()
    if guard is None or time.monotonic() <= guard[0]:
        return
    raise TimeLimitExceeded(
        f"the cell passed its time limit of {guard[1]:.0f} s{f' after {done}' if done else ''}; training is "
        f"never cut short silently, so this cell has no result. Lower the budget (--set epochs=N) or raise "
        f"the limit (--cell-timeout SECONDS)")


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
    on_epoch_end: Callable[[int, float], None] | None = None,
) -> FitReport:
    """Run exactly ``epochs`` passes of ``loss = step(batch_indices)`` in a seeded order.

    The loss curve (mean loss per epoch) goes in the report. After each epoch the cell's
    time guard is checked: past it, the cell fails with :class:`TimeLimitExceeded` rather
    than returning a model trained for fewer epochs than its profile says.
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
        if epoch + 1 < epochs:
            check_time_limit(f"{epoch + 1} of {epochs} epochs")
    report.wall_s = time.perf_counter() - start
    return report
