"""One JSON row per cell under ``<run>/cells/``, written atomically (:func:`adbench.io.write_atomic`)
in the versioned :class:`~adbench.results.row.Row` schema.

A reader never sees half a row; a finished cell is found by its key and skipped on rerun.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from ..io import write_json_atomic
from .row import FIX, BadRow, Row

__all__ = ["BadRow", "ResultStore", "Row", "load_row", "load_rows", "read_row", "write_json_atomic"]


def read_row(path: Path) -> Row:
    """One row, checked: valid JSON, a valid :class:`Row`, whose ``cell_key`` matches its file name."""
    try:
        data = json.loads(path.read_text())
    except UnicodeDecodeError as exc:
        raise BadRow(f"result row {path} is not text ({exc.reason}); {FIX}") from exc
    except json.JSONDecodeError as exc:
        raise BadRow(f"result row {path} is not valid JSON ({exc.msg} at line {exc.lineno}); {FIX}") from exc
    if isinstance(data, dict):
        if not isinstance(data.get("cell_key"), str):
            raise BadRow(f"result row {path} has no cell_key; {FIX}")
        if data["cell_key"] != path.stem:
            raise BadRow(f"result row {path} holds cell {data['cell_key']!r}, not {path.stem!r}; {FIX}")
    return Row.from_json(data, path)


def load_row(path: Path) -> dict[str, Any]:
    """One row file as a flat dict (one key per value, as the reports see it)."""
    return read_row(Path(path)).flat()


def warn(message: str) -> None:
    """One warning line on stderr (no traceback): a skipped row must be seen, not fatal."""
    print(f"warning: {message}", file=sys.stderr)


class ResultStore:
    """The rows of one run folder. A row file that cannot be read is skipped with a warning
    naming it; its cell counts as not done, so the next run computes it again and replaces
    the file."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.cells_dir = self.run_dir / "cells"

    def path_for(self, key: str) -> Path:
        return self.cells_dir / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self.path_for(key)
        if not path.exists():
            return None
        try:
            return read_row(path).flat()
        except (BadRow, OSError) as exc:
            warn(f"{exc}; its cell will run again and replace it")
            return None

    def is_done(self, key: str) -> bool:
        """True when the cell has a successful row (failed cells run again)."""
        row = self.get(key)
        return row is not None and row.get("status") == "ok"

    def write(self, row: dict[str, Any] | Row) -> Path:
        """Write a row (a :class:`Row`, or the runner's flat dict, sorted into one) atomically."""
        row = row if isinstance(row, Row) else Row.from_flat(row)
        return write_json_atomic(self.path_for(row.cell_key), row.to_json())

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every readable row; unreadable ones are skipped with a warning that names the
        file and the fix (rerun the same `adbench run` command, or delete the file)."""
        if not self.cells_dir.is_dir():
            return
        for path in sorted(self.cells_dir.glob("*.json")):
            try:
                yield read_row(path).flat()
            except BadRow as exc:
                warn(f"skipping {exc}")  # the message ends with the fix, once
            except OSError as exc:
                warn(f"skipping {exc}; {FIX}")


def _resolved(run_dir: Path, row: dict[str, Any]) -> dict[str, str]:
    """``<name>_path`` for every ``<name>_file`` the row holds (a path relative to its run folder)."""
    return {key[:-5] + "_path": str(run_dir / value) for key, value in row.items()
            if key.endswith("_file") and isinstance(value, str)}


def load_rows(run_dirs: list[Path]) -> pd.DataFrame:
    """All rows of one or more run folders as a DataFrame (one row per cell).

    The files a row names relative to its run folder (``maps_file``, ``split_file``) are
    also given as paths a reader can open (``maps_path``, ``split_path``), so several folders
    merge without anyone tracking where each row came from. When two folders hold the same
    cell, the newest row wins.
    """
    rows = [{**row, **_resolved(Path(d), row)} for d in run_dirs for row in ResultStore(d).rows()]
    df = pd.DataFrame(rows)
    if not df.empty and "cell_key" in df:
        if "started_at" in df:
            df = df.sort_values("started_at", na_position="first")
        df = df.drop_duplicates("cell_key", keep="last")
        order = [c for c in ("method", "dataset", "category") if c in df]
        df = df.sort_values(order, kind="stable").reset_index(drop=True)
    return df
