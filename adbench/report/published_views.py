"""Published numbers beside the run's own: what a reader of a reproduction checks first
(docs/architecture.md, "Published numbers"). The rows carry what each method's plugin
declares for their data set (``published``), so the table is built from the rows alone."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import registry
from ..published import MEAN
from .rows import CAPTION_WORDS, display_names, ok_rows, settings, words
from .table import DIGITS, Table


def _entries(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """The distinct published entries the rows carry."""
    seen: dict[tuple, dict[str, Any]] = {}
    for found in rows.get("published", pd.Series(dtype=object)):
        for e in found if isinstance(found, list) else []:
            seen.setdefault((e["method"], e["dataset"], e["metric"]), e)
    return list(seen.values())


def published_tables(df: pd.DataFrame) -> list[Table]:
    """One table per method and data set that has published numbers: per category (and the
    mean), the published value, this run's (mean over seeds), Δ = run − published, and whether
    |Δ| stays within the declared tolerance."""
    ok = ok_rows(df)
    if ok.empty or "published" not in ok:
        return []
    ok = ok[settings(ok) == ok["track"].fillna("unsupervised")]  # the method's own setting, no extras
    tables = []
    titles = {s.name: s.title for s in registry.metrics()}
    for (method, dataset), rows in ok.groupby(["method", "dataset"], sort=True):
        entries = [e for e in _entries(rows) if e["metric"] in rows]
        if entries:
            tables.append(_table(method, dataset, rows, entries, titles))
    return tables


def _table(method: str, dataset: str, rows: pd.DataFrame, entries: list[dict[str, Any]],
           titles: dict[str, str]) -> Table:
    per_category = rows.groupby("category")[[e["metric"] for e in entries]].mean()
    categories = sorted({c for e in entries for c in e["values"] if c != MEAN and c in per_category.index})
    has_mean = any(MEAN in e["values"] for e in entries)
    index = categories + ([MEAN] if has_mean else [])
    data: dict[str, list[float]] = {}
    text: dict[str, list[str]] = {}
    notes = []
    for e in entries:
        title = titles.get(e["metric"], e["metric"])
        run = [per_category.at[c, e["metric"]] if c != MEAN else per_category[e["metric"]].mean() for c in index]
        pub = [e["values"].get(c, np.nan) for c in index]
        delta = [r - p for r, p in zip(run, pub)]
        within = ["–" if pd.isna(d) else ("yes" if abs(d) <= e["tolerance"] + 0.5 * 10 ** -DIGITS else "no")
                  for d in delta]
        head = f"{title}, " if len(entries) > 1 else ""  # one metric: the caption names it
        for name, values in ((f"{head}published", pub), (f"{head}this run", run), (f"{head}Δ", delta)):
            data[name] = values
            text[name] = ["–" if pd.isna(v) else (f"{v:+.{DIGITS}f}" if name.endswith("Δ") else f"{v:.{DIGITS}f}")
                          for v in values]
        text[f"{head}within ±{e['tolerance']:g}"] = within
        notes.append(f"{title}: {e['source']}; tolerance ±{e['tolerance']:g}.")
        if has_mean and MEAN in e["values"]:
            n = int(per_category[e["metric"]].notna().sum())
            notes.append(f"{title}, mean: this run's is the mean over its {n} categor{'y' if n == 1 else 'ies'}; "
                         f"the publication's is over its own.")
    label = str(display_names(rows).iloc[0]) if len(rows) else method
    profiles = ", ".join(sorted(set(rows["profile"].astype(str)))) if "profile" in rows else "?"
    sources = "; ".join(dict.fromkeys(e["source"] for e in entries))
    metrics = " and ".join(titles.get(e["metric"], e["metric"]) for e in entries)
    caption = (f"{label}, {metrics} on {dataset} ({profiles} profile): published values ({sources}) beside this "
               f"run's, mean over seeds; Δ = run − published.")
    if words(caption) > CAPTION_WORDS:  # long sources go to the notes, which list each
        caption = (f"{label}, {metrics} on {dataset} ({profiles} profile): published values beside this run's, "
                   f"mean over seeds; Δ = run − published; sources in the notes.")
    frame = pd.DataFrame(data, index=pd.Index(index, name="category"))
    shown = pd.DataFrame(text, index=frame.index)
    return Table(name=f"published_{method}_{dataset}", title=f"Published vs this run: {label}, {dataset}",
                 data=frame, text=shown, caption=caption, notes=notes, section="Published vs this run",
                 methods_on=None)
