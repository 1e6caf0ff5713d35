"""What every executor does for one cell: take the cell's lock, skip it if it is already
done, else run it. The lock makes concurrent ``adbench run`` processes on one folder safe."""

from __future__ import annotations

from typing import Any

from filelock import FileLock, Timeout

from ..protocol.cells import Cell, RunSpec
from ..results.store import ResultStore


def run_locked(cell: Cell, spec: RunSpec) -> dict[str, Any]:
    """Run ``cell`` unless another process holds its lock or it already has a good row.

    Returns the row, or a row with ``status == "skipped"`` (not written) when skipped.
    """
    from ..protocol.runner import run_cell

    store = ResultStore(spec.run_dir)
    store.cells_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(store.cells_dir / f"{cell.key}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return {"cell_key": cell.key, "status": "skipped", "reason": "running in another process"}
    try:
        if not spec.force and store.is_done(cell.key):
            return {**(store.get(cell.key) or {}), "status": "ok", "skipped": True}
        return run_cell(cell, spec)
    finally:
        lock.release()
