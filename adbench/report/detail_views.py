"""Views below the per-metric level: the per-defect breakdown and the bootstrap confidence
intervals that every row carries (docs/results.md: ``per_defect``, ``<metric>_ci``), for every
metric whose spec asks for them (``MetricSpec.per_defect``, ``MetricSpec.bootstrap``)."""

from __future__ import annotations

import pandas as pd

from .. import registry
from .rows import column_labels, fidelity_legend, fidelity_notes, method_labels, ok_rows, setting_groups, setting_slug, settings
from .table import Table, best_cells, formatted


def per_defect_table(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows ``dataset/category/defect``, method columns: each defect type's images against all
    normal images of its category, mean over seeds."""
    ok = ok_rows(df)
    if "per_defect" not in ok or ok.empty:
        return pd.DataFrame()
    ok = ok.assign(column=column_labels(ok))
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


def per_defect_tables(df: pd.DataFrame) -> list[Table]:
    """``per_defect_<metric>[-<setting>]``: one table per flagged metric and training setting."""
    tables = []
    groups = setting_groups(df)
    for setting, rows in groups:
        setting = setting if len(groups) > 1 else None  # one setting: the plain file names
        res = sorted(set(rows.get("per_defect_resolution", pd.Series(dtype=object)).dropna()))
        for spec in registry.metrics():
            if not spec.per_defect:
                continue
            t = per_defect_table(rows, spec.name)
            if t.empty:
                continue
            where = (f" Pixel metrics per defect are scored at {'/'.join(res)} resolution."
                     if res and spec.level == "pixel" else "")
            tables.append(Table(
                name=f"per_defect_{spec.name}" + (f"-{setting_slug(setting)}" if setting else ""),
                title=f"{spec.title} per defect type" + (f", {setting}" if setting else ""),
                data=t, text=formatted(t), bold=best_cells(t, spec.higher_is_better, axis=1),
                caption=(f"{spec.title} per defect type, {setting or ', '.join(sorted(set(settings(rows))))} "
                         f"setting: each type's test images against all normal test images of its category; mean "
                         f"over seeds. Bold: best per row, ties included." + fidelity_legend(rows)),
                notes=([where.strip()] if where else []) + fidelity_notes(rows),
                section="Per defect type", methods_on="columns", latex_key_title="Defects"))
    return tables


def ci_table(df: pd.DataFrame) -> pd.DataFrame:
    """Tidy: one line per cell and metric with its value and bootstrap interval."""
    ok = ok_rows(df)
    if ok.empty:
        return pd.DataFrame()
    ok = ok.assign(setting=settings(ok), label=method_labels(ok))
    records = []
    for _, r in ok.iterrows():
        for spec in registry.metrics():
            if not spec.bootstrap:
                continue
            ci = r.get(f"{spec.name}_ci")
            if isinstance(ci, (list, tuple)) and len(ci) == 2 and spec.name in r and not pd.isna(r[spec.name]):
                records.append({"method": r["method"], "label": r["label"], "setting": r["setting"], "dataset": r["dataset"],
                                "category": r["category"], "seed": r["seed"], "metric": spec.name,
                                "value": float(r[spec.name]), "ci_low": float(ci[0]), "ci_high": float(ci[1])})
    return pd.DataFrame(records)


def ci_display(ci: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``dataset/category`` × method of "value [low, high]" for one metric (first seed) and the
    training setting(s) of ``ci``."""
    sub = ci[ci["metric"] == metric]
    if sub.empty:
        return pd.DataFrame()
    sub = sub[sub["seed"] == sub.groupby(["method", "setting", "dataset", "category"])["seed"].transform("min")]
    several = sub["setting"].nunique() > 1
    sub = sub.assign(row=sub["dataset"] + "/" + sub["category"],
                     column=sub["label"] + (" (" + sub["setting"] + ")" if several else ""),
                     text=[f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in
                           zip(sub["value"], sub["ci_low"], sub["ci_high"])])
    t = sub.pivot_table(index="row", columns="column", values="text", aggfunc="first").fillna("–")
    t.index.name, t.columns.name = "category", None
    return t


def _bootstrap_record(df: pd.DataFrame) -> dict | None:
    """The first row's ``bootstrap`` record (how its intervals were drawn), or None."""
    return next((b for b in df.get("bootstrap", pd.Series(dtype=object)) if isinstance(b, dict)), None)


def ci_caption(df: pd.DataFrame) -> str:
    """How the intervals were made, from the rows' ``bootstrap`` record."""
    info = _bootstrap_record(df)
    if info is None:
        return "95 % bootstrap intervals resampling the test images."
    return (f"{info.get('level', 0.95):.0%} percentile bootstrap intervals over {info.get('resamples')} resamples of "
            f"the test images ({info.get('resample')}), seeded by the cell's seed; pixel AUROC counts at most "
            f"{info.get('pixels_per_class_per_image')} pixels of each class per image, drawn with the same seed "
            f"(adbench.metrics.bootstrap).")


def ci_tables(df: pd.DataFrame) -> list[Table]:
    """``ci.csv`` (every cell, metric and seed) and one "value [low, high]" table per flagged
    metric (``ci_<metric>``, first seed)."""
    ci = ci_table(df)
    if ci.empty:
        return []
    how = ci_caption(df)
    tables = [Table(name="ci", title="Confidence intervals", data=ci, text=ci.astype(str), csv_index=False,
                    caption=how, formats=("csv",))]
    info = _bootstrap_record(df) or {}
    caption = (f"Value [{info.get('level', 0.95):.0%} bootstrap interval] per category, first seed; intervals "
               f"resample the test images {info.get('resamples', 1000)} times, stratified by label."
               + fidelity_legend(ok_rows(df)))
    settings_found = sorted(set(ci["setting"]))
    for spec, setting in ((spec, setting) for spec in registry.metrics() for setting in settings_found):
        t = ci_display(ci[ci["setting"] == setting], spec.name) if spec.bootstrap else pd.DataFrame()
        suffix = f"-{setting_slug(setting)}" if len(settings_found) > 1 else ""
        if not t.empty:
            tables.append(Table(name=f"ci_{spec.name}{suffix}", title=f"{spec.title}, value [95 % interval]"
                                + (f", {setting}" if suffix else ""), data=t,
                                text=t, caption=f"{setting.capitalize()} setting. {caption}",
                                notes=[how, *fidelity_notes(ok_rows(df))],
                                section="Confidence intervals", methods_on="columns",
                                formats=("md", "tex", "html")))
    return tables
