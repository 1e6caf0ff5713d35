"""What every executor does for one cell: take the cell's lock, skip it if it is already
done, else run it. The lock makes concurrent ``adbench run`` processes on one folder safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ..config import DatasetSpec
from ..protocol.cells import Cell
from ..results.store import ResultStore


def run_locked(cell: Cell, run_dir: Path, device: str, catalogue: dict[str, DatasetSpec],
               force: bool = False, **options: Any) -> dict[str, Any]:
    """Run ``cell`` unless another process holds its lock or it already has a good row.

    Returns the row, or a row with ``status == "skipped"`` (not written) when skipped.
    ``options`` go to :func:`~adbench.protocol.runner.run_cell`.
    """
    from ..protocol.runner import run_cell

    store = ResultStore(run_dir)
    store.cells_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(store.cells_dir / f"{cell.key}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return {"cell_key": cell.key, "status": "skipped", "reason": "running in another process"}
    try:
        if not force and store.is_done(cell.key):
            return {**(store.get(cell.key) or {}), "status": "ok", "skipped": True}
        return run_cell(cell, store, device=device, catalogue=catalogue, **options)
    finally:
        lock.release()
