"""One cell as a task: what every executor runs for a cell, wherever it runs (this process, a
worker, a Slurm job). ``run`` takes the cell's lock, skips it when it is done (or running in
another process) and otherwise runs it; ``fail`` writes the error row of a cell whose process
could not report itself. The lock makes concurrent ``adbench run`` processes on one folder safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from filelock import FileLock, Timeout

from ..results.store import ResultStore
from .cells import Cell, RunSpec
from .runner import base_row, record, run_cell

#: what ``CellTask.run`` returns (never writes) for a cell another process is running: an
#: outcome for the executor's count, not a row status (``Row.status`` is ok, error or running)
SKIPPED = "skipped"


@dataclass(frozen=True)
class CellTask:
    """A cell and how to run it; picklable, so a worker process or a Slurm job can run it."""

    cell: Cell
    spec: RunSpec

    def run(self) -> dict[str, Any]:
        """The cell's row: run now, or the stored one when it is already done; a
        ``{"status": SKIPPED}`` outcome when another process holds its lock."""
        store = ResultStore(self.spec.run_dir)
        store.cells_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(store.cells_dir / f"{self.cell.key}.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return {"cell_key": self.cell.key, "status": SKIPPED, "reason": "running in another process"}
        try:
            if not self.spec.force and store.is_done(self.cell.key):
                return {**(store.get(self.cell.key) or {}), "status": "ok", "skipped": True}
            return run_cell(self.cell, self.spec)
        finally:
            lock.release()

    def fail(self, reason: str) -> dict[str, Any]:
        """Write and return the error row of a cell whose process was lost (killed, timed out)."""
        row = {**base_row(self.cell, self.spec.device), "status": "error", "error": reason}
        return record(ResultStore(self.spec.run_dir), row)
