"""The ``local`` executor: this machine. One worker runs the cells in this process, one after
another, with a progress bar and an ETA; ``--workers N`` (or a ``--cell-timeout``, which needs
a process it can stop) hands them to the worker pool (:mod:`adbench.executors.pool`)."""

from __future__ import annotations

import sys
from typing import Any, Sequence

from tqdm import tqdm

from ..protocol.cells import Cell
from .base import Executor, ExecutorOption, RunSpec, is_failure, run_one


class LocalExecutor(Executor):
    name = "local"
    description = "this machine: in this process, or N worker processes (--workers)"
    options = (ExecutorOption("workers", int, 1, "worker processes on this machine (one per GPU with --device "
                              "cuda and several GPUs)", flag="--workers", minimum=1, short="-j"),)

    def run(self, cells: Sequence[Cell], spec: RunSpec) -> list[dict[str, Any]]:
        workers = self.config["workers"]
        if workers > 1 or spec.cell_timeout is not None:
            from .pool import PoolExecutor

            if workers == 1:  # said, not done silently: only a separate process can be stopped
                print(f"--cell-timeout {spec.cell_timeout:g}: each cell runs in a worker process, so that one "
                      f"that never reaches an epoch boundary can still be stopped", file=sys.stderr)
            return PoolExecutor(workers=workers, cell_timeout=spec.cell_timeout).run(cells, spec)
        return run_in_process(cells, spec)


def run_in_process(cells: Sequence[Cell], spec: RunSpec) -> list[dict[str, Any]]:
    """Every cell in this process, one after another."""
    rows = []
    failed = 0
    bar = tqdm(total=len(cells), unit="cell", file=sys.stderr, dynamic_ncols=True,
               bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]")
    try:
        for cell in cells:
            bar.set_description(f"{cell.method}/{cell.category}")
            row = run_one(cell, spec)
            rows.append(row)
            if is_failure(row):
                failed += 1
                bar.write(f"  FAILED {cell.label}: {row.get('error')}")
            bar.set_postfix(failed=failed, refresh=False)
            bar.update(1)
    finally:
        bar.close()
    return rows
