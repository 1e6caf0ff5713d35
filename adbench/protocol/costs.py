"""The cost profile of a cell's method, measured the same way wherever it is asked for.

A cell asks for it after training (:func:`cell_costs`, cached per configuration). An
executor that trains several cells at once (the worker pool) fills the cache first with
:func:`measure_cells`, one method at a time, before any cell starts: a latency timed while
other cells train on the same cores would measure the machine's load, not the method.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

from .. import registry
from .cells import Cell

#: seconds of latency timing per profile (at least 20 passes always): ``smoke`` is for CI and
#: keeps ``run all --profile smoke`` under a minute; the others time at least 1 s
LATENCY_MIN_TIME_S: dict[str, float] = {"smoke": 0.25}


def cell_costs(method_cls: Any, cfg: dict[str, Any], profile: str, device: str, threads: int | None,
                 fitted: Any = None, fitted_state: dict[str, Any] | None = None) -> dict[str, Any]:
    """The (cached) cost profile of ``method_cls`` at ``cfg``, timed as ``profile`` asks;
    ``fitted_state``: see :attr:`adbench.Method.costs_after_fit`."""
    from ..costs import measure_method

    return measure_method(method_cls, cfg, device=device, fitted=fitted, threads=threads, profile=profile,
                          min_time=LATENCY_MIN_TIME_S.get(profile, 1.0), fitted_state=fitted_state)


def measure_cells(cells: Sequence[Cell], device: str, threads: int | None) -> int:
    """Fill the cost cache for every distinct (method, profile, overrides) of ``cells``, one
    at a time, with ``threads`` intra-op threads; returns how many were measured anew. A method
    whose cost depends on its fitted state (``costs_after_fit``) cannot be measured before its
    cells train: each of its cells measures its own fitted model."""
    from tqdm import tqdm

    todo: dict[tuple, Cell] = {}
    for cell in cells:
        todo.setdefault((cell.method, cell.profile, cell.overrides), cell)
    measured = 0
    for cell in tqdm(list(todo.values()), desc="cost profiles", unit="method", file=sys.stderr, leave=False):
        try:
            cls = registry.methods().get(cell.method).obj
            if cls.costs_after_fit:
                continue
            cfg = cls.config_for(cell.profile, dict(cell.overrides))
            measured += not cell_costs(cls, cfg, cell.profile, device, threads)["cached"]
        except Exception as exc:  # the cell itself will report it, with its traceback
            print(f"cost profile of {cell.method} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return measured
