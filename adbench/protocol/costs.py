"""Cost profiles of the methods a run is about to train, measured before any cell starts.

Used by executors that train several cells at once (the worker pool): a latency timed
while other cells train on the same cores would measure the machine's load, not the
method. Profiles go to the cost cache, where the cells then find them.
"""

from __future__ import annotations

import sys
from typing import Sequence

from .. import registry
from .cells import Cell


def profile_cells(cells: Sequence[Cell], device: str, threads: int | None) -> int:
    """Fill the cost cache for every distinct (method, profile, overrides) of ``cells``, one
    at a time, with ``threads`` intra-op threads; returns how many were measured anew."""
    from tqdm import tqdm

    from ..costs import profile_method
    from .runner import LATENCY_MIN_TIME_S

    todo: dict[tuple, Cell] = {}
    for cell in cells:
        todo.setdefault((cell.method, cell.profile, cell.overrides), cell)
    measured = 0
    for cell in tqdm(list(todo.values()), desc="cost profiles", unit="method", file=sys.stderr, leave=False):
        try:
            cls = registry.methods().get(cell.method).obj
            cfg = cls.config_for(cell.profile, dict(cell.overrides))
            min_time = LATENCY_MIN_TIME_S.get(cell.profile, 1.0)
            measured += not profile_method(cls, cfg, device=device, threads=threads, profile=cell.profile,
                                           min_time=min_time)["cached"]
        except Exception as exc:  # the cell itself will report it, with its traceback
            print(f"cost profile of {cell.method} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return measured
