"""``adbench report``: every registered reporter over the rows of one or more run folders."""

from __future__ import annotations

import inspect
import weakref
from pathlib import Path
from typing import Any

import pandas as pd

from .. import registry
from ..citations import bibliography, key_or_none
from ..io import write_text_atomic
from ..metrics.spec import metrics_of_rows
from ..results.store import load_rows
from .rows import citation_keys, ok_rows
from .table import Table
from .writers import write_tables

_last: tuple[weakref.ref, list[Table]] | None = None


def view_tables(df: pd.DataFrame) -> list[Table]:
    """Every registered view's tables over ``df``, in registration order (the core's views
    first). The tables and the HTML reporters share the result for the same frame."""
    global _last
    if _last is not None and _last[0]() is df:
        return _last[1]
    tables = [t for entry in registry.views().in_order() for t in entry.obj(df)]
    _last = (weakref.ref(df), tables)
    return tables


def write_view_tables(df: pd.DataFrame, out_dir: Path, formats: tuple[str, ...] = ("csv", "md"),
                      transpose: bool = False) -> list[Path]:
    """Every view's tables as CSV, Markdown and LaTeX files under ``out_dir`` (the formats
    asked for); ``transpose`` puts categories in the rows of the LaTeX metric tables. With LaTeX,
    every method label cites its paper and ``references.bib`` holds those entries."""
    ok = ok_rows(df)
    written = write_tables(view_tables(df), out_dir, formats, transpose, citations=citation_keys(ok))
    entries = [e for e in ok.get("method_bibtex", pd.Series(dtype=object)) if key_or_none(e) is not None]
    if "tex" in formats and entries:
        written.append(write_text_atomic(out_dir / "references.bib", bibliography(entries)))
    return written


def write_figures_and_html(df: pd.DataFrame, out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    """Figures (PDF + PNG) under ``out_dir/figures`` and, with format ``html``, ``index.html``."""
    if not {"png", "pdf", "html", "fig"} & set(formats):
        return []  # before the imports: matplotlib alone takes a second to load
    from .figures import write_figures
    from .html import write_html

    written = write_figures(df, out_dir / "figures")
    if "html" in formats:
        written.append(write_html(df, view_tables(df), written, out_dir))
    return written


def build_report(run_dirs: list[Path], out_dir: Path, formats: tuple[str, ...] = ("csv", "md"),
                 costs_dir: Path | None = None, **options: Any) -> list[Path]:
    """Write tables (and whatever else reporters produce) from the rows alone; with
    ``costs_dir``, the cost figures come from that ``adbench profile`` output instead."""
    from .costs import costs_from_profile

    df = load_rows(run_dirs)
    if df.empty:
        raise FileNotFoundError(f"no result rows under {', '.join(str(d / 'cells') for d in run_dirs)}; "
                                f"run `adbench run` first or pass the run folder")
    if costs_dir is not None:
        df = costs_from_profile(df, costs_dir)
    return write_report(df, out_dir, formats, **options)


def write_report(df: pd.DataFrame, out_dir: Path, formats: tuple[str, ...] = ("csv", "md"),
                 **options: Any) -> list[Path]:
    """Every registered reporter over already-loaded rows. Layout ``options`` (``transpose``)
    go to the reporters whose function takes them by name; the others are called as before."""
    written: list[Path] = []
    with registry.extra_metrics(metrics_of_rows(df)):  # AU-PRO at the limits the rows were scored at
        for entry in registry.reporters():
            params = inspect.signature(entry.obj).parameters
            taken = {k: v for k, v in options.items() if k in params}
            written.extend(entry.obj(df, out_dir, formats, **taken))
    return written
