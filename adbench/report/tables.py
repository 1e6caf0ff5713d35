"""Per-metric tables (category × method, mean row) built from result rows alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

METRICS: dict[str, str] = {
    "image_auroc": "Image AUROC",
    "image_ap": "Image AP",
    "image_f1max": "Image F1-max",
    "pixel_auroc": "Pixel AUROC",
    "pixel_ap": "Pixel AP",
    "pixel_f1max": "Pixel F1-max",
    "au_pro": "AU-PRO@0.3",
}


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["status"] == "ok"] if "status" in df else df.iloc[0:0]


def _column(df: pd.DataFrame) -> pd.Series:
    """Method label; the track is added when one run mixes tracks."""
    if df["track"].nunique() > 1:
        return df["method"] + " (" + df["track"].str[:3] + ")"
    return df["method"]


def metric_table(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean over seeds of ``metric``: rows ``dataset/category`` plus one mean row per data set."""
    ok = ok_rows(df)
    if metric not in ok or ok[metric].isna().all():
        return pd.DataFrame()
    ok = ok.assign(column=_column(ok), row=ok["dataset"] + "/" + ok["category"])
    parts = []
    for dataset, sub in ok.groupby("dataset", sort=True):
        table = sub.pivot_table(index="row", columns="column", values=metric, aggfunc="mean")
        table.loc[f"{dataset}/mean"] = table.mean(axis=0, skipna=False)
        parts.append(table)
    out = pd.concat(parts)
    out.index.name = "category"
    out.columns.name = None
    return out


def summary_table(df: pd.DataFrame) -> pd.DataFrame:
    """Method × metric, averaged over every category and seed: the console summary."""
    ok = ok_rows(df)
    cols = [m for m in METRICS if m in ok and not ok[m].isna().all()]
    if ok.empty or not cols:
        return pd.DataFrame()
    ok = ok.assign(column=_column(ok))
    table = ok.groupby("column")[cols].mean()
    table["cells"] = ok.groupby("column").size()
    table.index.name = "method"
    return table


def failures_table(df: pd.DataFrame) -> pd.DataFrame:
    if "status" not in df:
        return pd.DataFrame()
    bad = df[df["status"] != "ok"]
    cols = [c for c in ("method", "dataset", "category", "track", "seed", "profile", "error") if c in bad]
    return bad[cols].reset_index(drop=True)


def to_markdown(table: pd.DataFrame, digits: int = 3, bold_best: bool = False) -> str:
    """Markdown; missing values as "–"; with ``bold_best`` the highest value of each row in bold."""
    if not bold_best or table.empty:
        return table.to_markdown(floatfmt=f".{digits}f", missingval="–")
    best = table.max(axis=1)

    def fmt(v: float, b: float) -> str:
        if pd.isna(v):
            return "–"
        s = f"{v:.{digits}f}"
        return f"**{s}**" if v == b else s

    shown = pd.DataFrame({c: [fmt(v, b) for v, b in zip(table[c], best)] for c in table.columns}, index=table.index)
    return shown.to_markdown(colalign=["left"] + ["right"] * len(shown.columns))


def missing_notes(df: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """Why each "–" of a metric table is empty: the cell's error, or that it was not run."""
    notes = []
    if table.empty:
        return notes
    bad = df[df["status"] != "ok"] if "status" in df else df.iloc[0:0]
    for row_label in table.index:
        if row_label.endswith("/mean"):
            continue
        dataset, category = row_label.split("/", 1)
        for col in table.columns:
            if not pd.isna(table.at[row_label, col]):
                continue
            method = col.split(" (")[0]
            err = bad[(bad["method"] == method) & (bad["dataset"] == dataset) & (bad["category"] == category)]
            reason = str(err["error"].iloc[0]).splitlines()[0][:160] if len(err) else "not run, or metric undefined"
            notes.append(f"{col} on {row_label}: {reason}")
    return notes


COST_COLUMNS = {"params": "params (M)", "gmacs": "GMACs (fvcore)", "latency_ms": "latency (ms)",
                "forward_mb": "forward (MiB)", "backward_mb": "backward (MiB)", "model_size_mb": "model (MiB)",
                "onnx_size_mb": "ONNX (MiB)"}


def cost_table(df: pd.DataFrame) -> pd.DataFrame:
    """Method × device: parameters, fvcore GMACs, batch-1 latency, memory and ONNX size."""
    ok = ok_rows(df)
    cols = [c for c in COST_COLUMNS if c in ok]
    if ok.empty or not cols:
        return pd.DataFrame()
    t = ok.groupby(["method", "device"])[cols].median(numeric_only=True)
    if "params" in t:
        t["params"] = t["params"] / 1e6
    return t.reset_index().rename(columns=COST_COLUMNS)


def to_latex(table: pd.DataFrame, caption: str, digits: int = 3) -> str:
    """booktabs table; the best value in each row is bold (higher is better)."""
    best = table.apply(lambda r: r == r.max(), axis=1) if not table.empty else table
    styler = table.style.format(precision=digits, na_rep="--")
    styler = styler.apply(lambda _: np.where(best, "font-weight: bold", ""), axis=None)
    return styler.to_latex(hrules=True, caption=caption, convert_css=True,
                           position_float="centering")


def write_metric_tables(df: pd.DataFrame, out_dir: Path, formats: tuple[str, ...] = ("csv", "md")) -> list[Path]:
    """One file per metric and format under ``out_dir``; returns what was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for metric, title in METRICS.items():
        table = metric_table(df, metric)
        if table.empty:
            continue
        if "csv" in formats:
            written.append(out_dir / f"{metric}.csv")
            table.to_csv(written[-1], float_format="%.6f")
        if "md" in formats:
            written.append(out_dir / f"{metric}.md")
            notes = ["Best value per row in bold; mean over seeds; rows `dataset/category`."]
            if metric == "pixel_auroc":
                notes.append("VT-ADL's published \"PRO\" is this pixel AUROC (not AU-PRO).")
            notes += [f"– {n}" for n in missing_notes(df, table)]
            body = "\n".join(f"{i + 1}. {n}" for i, n in enumerate(notes))
            written[-1].write_text(f"## {title}\n\n{to_markdown(table, bold_best=True)}\n\n{body}\n")
        if "tex" in formats:
            written.append(out_dir / f"{metric}.tex")
            written[-1].write_text(to_latex(table, title))
    costs = cost_table(df)
    if not costs.empty:
        if "csv" in formats:
            written.append(out_dir / "costs.csv")
            costs.to_csv(written[-1], index=False, float_format="%.6g")
        if "md" in formats:
            written.append(out_dir / "costs.md")
            written[-1].write_text("## Costs\n\n" + costs.to_markdown(index=False, floatfmt=".3g") +
                                   "\n\nfvcore counts one multiply-add as one flop: GMACs. Latency: batch 1, "
                                   "median; memory: one training step at batch 1.\n")
        if "tex" in formats:
            written.append(out_dir / "costs.tex")
            written[-1].write_text(costs.style.hide(axis="index").format(precision=3, na_rep="--").to_latex(
                hrules=True, caption="Costs", position_float="centering"))
    fails = failures_table(df)
    if not fails.empty:
        written.append(out_dir / "failures.md")
        written[-1].write_text("## Failed cells\n\n" + fails.to_markdown(index=False) + "\n")
    return written
