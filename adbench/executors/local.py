"""Run cells one after another in this process, with a progress bar and an ETA."""

from __future__ import annotations

import sys
from typing import Any, Sequence

from tqdm import tqdm

from ..protocol.cells import Cell
from .base import RunSpec, is_failure, run_one


class LocalExecutor:
    """Runs cells in this process, one after another (``--workers 1``, the default)."""

    name = "local"

    def __init__(self, **options: Any):
        self.options = options

    def run(self, cells: Sequence[Cell], spec: RunSpec) -> list[dict[str, Any]]:
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
