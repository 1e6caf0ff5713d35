"""What an executor receives: the cells and everything needed to run one anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import DatasetSpec
from ..protocol.cells import Cell


@dataclass
class RunSpec:
    """Picklable, so a worker process or a Slurm job can run a cell from it."""

    run_dir: Path
    device: str
    catalogue: dict[str, DatasetSpec]
    force: bool = False
    #: the cells' time guard (``--cell-timeout``); None: the profile's default
    time_limit_s: float | None = None
    #: intra-op threads of the cost profiles; None: each process's own
    cost_threads: int | None = None


def is_failure(row: dict[str, Any]) -> bool:
    """A row to report as failed: neither a result nor a cell skipped because it ran elsewhere."""
    return row.get("status") not in ("ok", "skipped")


def run_one(cell: Cell, spec: RunSpec) -> dict[str, Any]:
    """Run one cell under its lock; the function every executor ships to where it runs."""
    from .cellrun import run_locked

    return run_locked(cell, spec.run_dir, spec.device, spec.catalogue, spec.force,
                      time_limit_s=spec.time_limit_s, cost_threads=spec.cost_threads)


def failure_row(cell: Cell, spec: RunSpec, reason: str) -> dict[str, Any]:
    """Write and return the error row of a cell whose process was lost (killed, timed out)."""
    from ..protocol.runner import write_error_row

    return write_error_row(cell, spec.run_dir, spec.device, reason)
