"""``adbench report``: every registered reporter over the rows of one or more run folders."""

from __future__ import annotations

from pathlib import Path

from .. import registry
from ..results.store import load_rows


def build_report(run_dirs: list[Path], out_dir: Path, formats: tuple[str, ...] = ("csv", "md")) -> list[Path]:
    """Write tables (and whatever else reporters produce) from the rows alone."""
    df = load_rows(run_dirs)
    if df.empty:
        raise FileNotFoundError(f"no result rows under {', '.join(str(d / 'cells') for d in run_dirs)}; "
                                f"run `adbench run` first or pass the run folder")
    written: list[Path] = []
    for entry in registry.reporters():
        written.extend(entry.obj(df, out_dir, formats))
    return written
