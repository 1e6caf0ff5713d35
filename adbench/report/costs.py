"""``adbench report --costs DIR``: cost figures from an ``adbench profile`` output.

A run's rows carry the cost profile measured during the run; a paper may prefer figures
measured separately in one quiet process (``adbench profile all --out DIR``). This swaps
them in, per method and device, before any reporter runs, and records the source in
``costs_source`` so every cost caption names it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..costs.table import LEGACY_COLUMNS, ROW_KEYS


class CostsFileError(ValueError):
    """The costs folder holds no readable ``costs.csv``; the message names the file and the fix."""


def costs_from_profile(df: pd.DataFrame, costs_dir: Path) -> pd.DataFrame:
    """``df`` with each method's cost figures replaced by the fp32 row of the smallest batch
    of ``costs_dir/costs.csv`` for the same device; methods it lacks keep their own."""
    path = costs_dir / "costs.csv" if costs_dir.is_dir() else costs_dir
    try:
        costs = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CostsFileError(f"--costs {costs_dir}: cannot read {path} ({type(exc).__name__}); write one with "
                             f"`adbench profile all --out {costs_dir}`") from exc
    costs = costs.rename(columns={k: v for k, v in LEGACY_COLUMNS.items() if v not in costs.columns})
    missing = {"method", "device", "precision", "batch", "status"} - set(costs.columns)
    if missing:
        raise CostsFileError(f"--costs {costs_dir}: {path} is not an `adbench profile` table "
                             f"(no column {', '.join(sorted(missing))})")
    fp32 = costs[(costs["precision"] == "fp32") & (costs["status"] == "ok")].sort_values("batch")
    first = fp32.drop_duplicates(["method", "device"])
    df = df.copy()
    df["costs_source"] = "the run rows"
    for _, c in first.iterrows():
        sel = (df["method"] == c["method"]) & (df["device"].astype(str) == str(c["device"]))
        if not sel.any():
            continue
        for column, key in ROW_KEYS.items():
            if column not in c.index:
                continue
            if key not in df:
                df[key] = None
            if df[key].dtype != object and not _is_number(c[column]):
                df[key] = df[key].astype(object)
            df.loc[sel, key] = c[column]
        df.loc[sel, "costs_source"] = f"adbench profile ({path})"
    return df


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
