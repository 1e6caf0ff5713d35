"""Tables below the per-metric level: the per-defect breakdown and the bootstrap confidence
intervals that every row carries (docs/results.md: ``per_defect``, ``*_auroc_ci``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .tables import _column, ok_rows, setting_groups, setting_slug, settings, to_markdown

#: the per-defect values a row carries, and their titles
PER_DEFECT_METRICS = {"image_auroc": "Image AUROC", "pixel_auroc": "Pixel AUROC"}
#: the metrics with a bootstrap interval in every row
CI_METRICS = {"image_auroc": "Image AUROC", "pixel_auroc": "Pixel AUROC"}


def per_defect_table(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows ``dataset/category/defect``, method columns: each defect type's images against all
    normal images of its category, mean over seeds."""
    ok = ok_rows(df)
    if "per_defect" not in ok or ok.empty:
        return pd.DataFrame()
    ok = ok.assign(column=_column(ok))
    records = []
    for _, r in ok.iterrows():
        if not isinstance(r["per_defect"], dict):
            continue
        for defect, values in r["per_defect"].items():
            v = values.get(metric) if isinstance(values, dict) else None
            if v is not None:
                records.append({"row": f"{r['dataset']}/{r['category']}/{defect}", "column": r["column"],
                                "seed": r["seed"], "value": float(v)})
    if not records:
        return pd.DataFrame()
    t = pd.DataFrame(records).pivot_table(index="row", columns="column", values="value", aggfunc="mean")
    t.index.name, t.columns.name = "defect", None
    return t


def ci_table(df: pd.DataFrame) -> pd.DataFrame:
    """Tidy: one line per cell and metric with its value and bootstrap interval."""
    ok = ok_rows(df)
    if ok.empty:
        return pd.DataFrame()
    ok = ok.assign(setting=settings(ok))
    records = []
    for _, r in ok.iterrows():
        for metric in CI_METRICS:
            ci = r.get(f"{metric}_ci")
            if isinstance(ci, (list, tuple)) and len(ci) == 2 and metric in r and not pd.isna(r[metric]):
                records.append({"method": r["method"], "setting": r["setting"], "dataset": r["dataset"],
                                "category": r["category"], "seed": r["seed"], "metric": metric,
                                "value": float(r[metric]), "ci_low": float(ci[0]), "ci_high": float(ci[1])})
    return pd.DataFrame(records)


def ci_display(ci: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``dataset/category`` × method of "value [low, high]" for one metric (first seed)."""
    sub = ci[ci["metric"] == metric]
    if sub.empty:
        return pd.DataFrame()
    sub = sub[sub["seed"] == sub.groupby(["method", "setting", "dataset", "category"])["seed"].transform("min")]
    several = sub["setting"].nunique() > 1
    sub = sub.assign(row=sub["dataset"] + "/" + sub["category"],
                     column=sub["method"] + (" (" + sub["setting"] + ")" if several else ""),
                     text=[f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in
                           zip(sub["value"], sub["ci_low"], sub["ci_high"])])
    t = sub.pivot_table(index="row", columns="column", values="text", aggfunc="first").fillna("–")
    t.index.name, t.columns.name = "category", None
    return t


def ci_caption(df: pd.DataFrame) -> str:
    """How the intervals were made, from the rows' ``bootstrap`` record."""
    info = next((b for b in df.get("bootstrap", pd.Series(dtype=object)) if isinstance(b, dict)), None)
    if info is None:
        return "95 % bootstrap intervals resampling the test images."
    return (f"{info.get('level', 0.95):.0%} percentile bootstrap intervals over {info.get('resamples')} resamples of "
            f"the test images ({info.get('resample')}), seeded by the cell's seed; pixel AUROC counts at most "
            f"{info.get('pixels_per_class_per_image')} pixels of each class per image, drawn with the same seed "
            f"(adbench.metrics.bootstrap).")


def write_detail_tables(df: pd.DataFrame, out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    """``per_defect_<metric>[-<setting>].csv/.md`` and ``ci.csv`` / ``ci.md``."""
    written: list[Path] = []
    groups = setting_groups(df)
    for setting, rows in groups:
        setting = setting if len(groups) > 1 else None  # one setting: the plain file names
        for metric, title in PER_DEFECT_METRICS.items():
            t = per_defect_table(rows, metric)
            if t.empty:
                continue
            name = f"per_defect_{metric}" + (f"-{setting_slug(setting)}" if setting else "")
            if "csv" in formats:
                written.append(out_dir / f"{name}.csv")
                t.to_csv(written[-1], float_format="%.6f")
            if "md" in formats:
                written.append(out_dir / f"{name}.md")
                res = sorted(set(rows.get("per_defect_resolution", pd.Series(dtype=object)).dropna()))
                where = f" Pixel AUROC per defect is scored at {'/'.join(res)} resolution." if res else ""
                written[-1].write_text(
                    f"## {title} per defect type{', ' + setting if setting else ''}\n\n"
                    + to_markdown(t, bold_best=True) + "\n\n"
                    + f"Rows `dataset/category/defect`: that defect type's test images against all normal test "
                      f"images of the category; best value per row in bold; mean over seeds.{where}\n")
    ci = ci_table(df)
    if not ci.empty:
        if "csv" in formats:
            written.append(out_dir / "ci.csv")
            ci.to_csv(written[-1], index=False, float_format="%.6f")
        if "md" in formats:
            parts = []
            for metric, title in CI_METRICS.items():
                t = ci_display(ci, metric)
                if not t.empty:
                    parts.append(f"## {title}, 95 % confidence interval\n\n"
                                 + t.to_markdown(disable_numparse=True) + "\n")
            written.append(out_dir / "ci.md")
            written[-1].write_text("\n".join(parts) + "\n" + ci_caption(df) + "\n")
    return written
