"""One JSON row per cell under ``<run>/cells/``, written atomically (temp file, fsync, rename).

A reader never sees half a row; a finished cell is found by its key and skipped on rerun.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pandas as pd


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in a result row")


def _clean(value: Any) -> Any:
    """NaN/inf are not JSON: store them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that ``path`` holds either the old content or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(_clean(data), fh, indent=1, default=_json_default, allow_nan=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class BadRow(ValueError):
    """A row file that cannot be used; the message names the file, what is wrong and the fix."""


def read_row(path: Path) -> dict[str, Any]:
    """One row, checked: valid JSON, an object, with a ``cell_key`` that matches its file name."""
    try:
        row = json.loads(path.read_text())
    except UnicodeDecodeError as exc:
        raise BadRow(f"result row {path} is not text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise BadRow(f"result row {path} is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(row, dict):
        raise BadRow(f"result row {path} holds a JSON {type(row).__name__}, not an object")
    if not isinstance(row.get("cell_key"), str):
        raise BadRow(f"result row {path} has no cell_key")
    if row["cell_key"] != path.stem:
        raise BadRow(f"result row {path} holds cell {row['cell_key']!r}, not {path.stem!r}")
    return row


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
            return read_row(path)
        except (BadRow, OSError) as exc:
            warn(f"{exc}; its cell will run again and replace it")
            return None

    def is_done(self, key: str) -> bool:
        """True when the cell has a successful row (failed cells run again)."""
        row = self.get(key)
        return row is not None and row.get("status") == "ok"

    def write(self, row: dict[str, Any]) -> Path:
        path = self.path_for(row["cell_key"])
        write_json_atomic(path, row)
        return path

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every readable row; unreadable ones are skipped with a warning that names the
        file and the fix (rerun the same `adbench run` command, or delete the file)."""
        if not self.cells_dir.is_dir():
            return
        for path in sorted(self.cells_dir.glob("*.json")):
            try:
                yield read_row(path)
            except (BadRow, OSError) as exc:
                warn(f"skipping {exc}; rerun the same `adbench run` command to compute that cell again, "
                     f"or delete the file")


def load_rows(run_dirs: list[Path]) -> pd.DataFrame:
    """All rows of one or more run folders as a DataFrame (one row per cell).

    ``_run_dir`` says which folder a row came from (its maps and splits live there). When
    two folders hold the same cell, the newest row wins.
    """
    rows = [{**row, "_run_dir": str(d)} for d in run_dirs for row in ResultStore(d).rows()]
    df = pd.DataFrame(rows)
    if not df.empty and "cell_key" in df:
        if "started_at" in df:
            df = df.sort_values("started_at", na_position="first")
        df = df.drop_duplicates("cell_key", keep="last")
        order = [c for c in ("method", "dataset", "category") if c in df]
        df = df.sort_values(order, kind="stable").reset_index(drop=True)
    return df
