"""Metric views: one table per registered metric (category × method, with a mean row per data
set), the summary (method × metric), the seeds table and the failed cells. Metrics come from
the registry alone, so a plugin's metric reaches each of them."""

from __future__ import annotations

import pandas as pd

from .. import registry
from ..metrics.spec import MetricSpec
from .rows import (column_labels, fidelity_legend, fidelity_notes, image_counts, metric_caption, metric_title,
                   method_notes, ok_rows, resolution_notes, setting_groups, setting_slug, settings, table_groups)
from .table import DIGITS, Table, best_cells, formatted, mean_std, with_spread


def _seed_values(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One value per (row label, method column, seed): the categories, plus per data set the
    mean over its categories computed seed by seed."""
    ok = ok_rows(df)
    if metric not in ok or ok[metric].isna().all():
        return pd.DataFrame()
    ok = ok.assign(column=column_labels(ok), row=ok["dataset"] + "/" + ok["category"])
    per_seed = ok.groupby(["dataset", "row", "column", "seed"], sort=True)[metric].mean().reset_index()
    means = (per_seed.pivot_table(index=["dataset", "column", "seed"], columns="row", values=metric, aggfunc="first")
             .mean(axis=1, skipna=False).rename(metric).reset_index())
    means["row"] = means["dataset"] + "/mean"
    return pd.concat([per_seed, means], ignore_index=True)


def metric_stats(df: pd.DataFrame, metric: str) -> dict[str, pd.DataFrame]:
    """``mean``, ``std`` (sample std over seeds; NaN for one seed) and ``n`` (seeds) of
    ``metric``: rows ``dataset/category`` plus one mean row per data set, methods as columns."""
    vals = _seed_values(df, metric)
    if vals.empty:
        return {}
    order = [r for d, sub in vals.groupby("dataset", sort=True)
             for r in sorted(set(sub["row"]) - {f"{d}/mean"}) + [f"{d}/mean"]]
    out = {}
    for stat in ("mean", "std", "count"):
        t = vals.pivot_table(index="row", columns="column", values=metric, aggfunc=stat, dropna=False)
        t = t.reindex(order)
        t.index.name, t.columns.name = "category", None
        out["n" if stat == "count" else stat] = t
    return out


def metric_table(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean over seeds of ``metric``: rows ``dataset/category`` plus one mean row per data set."""
    return metric_stats(df, metric).get("mean", pd.DataFrame())


def seed_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Tidy mean, std and n over seeds of every metric, per data set, category and method."""
    parts = []
    for spec in registry.metrics():
        stats = metric_stats(df, spec.name)
        if not stats:
            continue
        long = {k: v.stack(future_stack=True).rename(k) for k, v in stats.items()}
        t = pd.concat(long.values(), axis=1).reset_index().rename(columns={"column": "method", "level_1": "method"})
        t.insert(2, "metric", spec.name)
        parts.append(t.dropna(subset=["mean"]))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def missing_notes(df: pd.DataFrame, table: pd.DataFrame, metric: str | None = None) -> list[str]:
    """Why each "–" of a metric table is empty: the cell's error, the reason its row gives for
    a null ``metric`` (``metric_null_reasons``), or that it was not run."""
    notes: list[str] = []
    if table.empty:
        return notes
    status = df["status"] if "status" in df else pd.Series("ok", index=df.index)
    method_of = dict(zip(column_labels(df), df["method"])) if len(df) else {}
    for row_label in table.index:
        if row_label.endswith("/mean"):
            continue
        dataset, category = row_label.split("/", 1)
        for col in table.columns:
            if not pd.isna(table.at[row_label, col]):
                continue
            method = method_of.get(col, col.split(" (")[0])
            mine = df[(df["method"] == method) & (df["dataset"] == dataset) & (df["category"] == category)]
            notes.append(f"{col} on {row_label}: {_null_reason(mine, status, metric)}")
    return notes


def _null_reason(rows: pd.DataFrame, status: pd.Series, metric: str | None) -> str:
    """The first line of a failed row's error, else an ok row's own reason for the null value."""
    err = rows[status.reindex(rows.index) != "ok"]
    if len(err):
        return str(err["error"].iloc[0]).splitlines()[0][:160]
    if metric is not None and "metric_null_reasons" in rows:
        for reasons in rows["metric_null_reasons"]:
            why = null_reason(reasons, metric)
            if why:
                return why[:160]
    return "not run, or metric undefined"


def null_reason(reasons: object, metric: str) -> str | None:
    """The first line of a row's ``metric_null_reasons`` entry for ``metric``, or None."""
    why = reasons.get(metric) if isinstance(reasons, dict) else None
    return str(why).splitlines()[0] if why else None


def _at(resolution: str | None) -> str:
    return f" ({resolution} resolution)" if resolution else ""


def _setting(df: pd.DataFrame, setting: str | None) -> str:
    """The caption's setting: the one given, else the rows' own (a run of one setting)."""
    found = sorted(set(settings(ok_rows(df)))) if setting is None else [setting]
    return (", ".join(found) or "unsupervised") + " setting"


def metric_tables(df: pd.DataFrame) -> list[Table]:
    """One table per registered metric, evaluation resolution and training setting."""
    return [t for spec in registry.metrics() for name, resolution, setting, rows in table_groups(df, spec)
            for t in [_metric_table(rows, spec, resolution, setting, name)] if t is not None]


def _metric_table(df: pd.DataFrame, spec: MetricSpec, resolution: str | None, setting: str | None,
                  name: str) -> Table | None:
    stats = metric_stats(df, spec.name)
    if not stats:
        return None
    mean = stats["mean"]
    several = bool((stats["n"].fillna(0) > 1).to_numpy().any())
    text = with_spread(mean, stats["std"], stats["n"]) if several else formatted(mean)
    caption = (f"{spec.title} per category{_at(resolution)}, {_setting(df, setting)}"
               + (f"; {image_counts(df)}" if image_counts(df) else "")
               + (". Mean ± sample std (n − 1) over seeds" if several else ". One seed")
               + "; bold: best per row, ties included." + fidelity_legend(df))
    notes = ([metric_caption(spec, resolution)] + method_notes(df, spec.name) + fidelity_notes(df)
             + (["A data set's mean averages its categories seed by seed; n per cell in seeds.csv."] if several else [])
             + [f"– {n}" for n in missing_notes(df, mean, spec.name)])
    return Table(name=name, title=metric_title(spec, resolution) + (f", {setting}" if setting else ""),
                 data=mean, text=text, bold=best_cells(mean, spec.higher_is_better, axis=1), caption=caption,
                 notes=notes, section="Metric tables", methods_on="columns", numbered_notes=True)


def summary_table(df: pd.DataFrame) -> pd.DataFrame:
    """Method × metric, mean over categories then over seeds: the console summary. With more
    than one seed, ``<metric>_std`` holds the std over seeds of the category mean; with more
    than one category, ``<metric>_std_categories`` the sample std over the data set/category
    cells of their seed means (how much a method's score depends on the category)."""
    ok = ok_rows(df)
    cols = [s.name for s in registry.metrics() if s.name in ok and not ok[s.name].isna().all()]
    if ok.empty or not cols:
        return pd.DataFrame()
    ok = ok.assign(column=column_labels(ok))
    per_seed = ok.groupby(["column", "seed"])[cols].mean()
    table = per_seed.groupby("column").mean()
    if ok["seed"].nunique() > 1:
        std = per_seed.groupby("column").std()
        for c in cols:
            table[f"{c}_std"] = std[c]
    per_category = ok.groupby(["column", "dataset", "category"])[cols].mean()
    if per_category.groupby("column").size().max() > 1:
        std = per_category.groupby("column").std()
        for c in cols:
            table[f"{c}_std_categories"] = std[c]
    table["categories"] = per_category.groupby("column").size()
    table["seeds"] = ok.groupby("column")["seed"].nunique()
    table["cells"] = ok.groupby("column").size()
    table.index.name = "method"
    return table


def summary_display(summary: pd.DataFrame, digits: int = DIGITS) -> pd.DataFrame:
    """The summary as text: "mean ± std over seeds" per metric when seeds were repeated, then the
    std over categories in parentheses when there were several; "–" for none."""
    names = {s.name for s in registry.metrics()}
    metrics = [c for c in summary.columns if c in names]
    out = pd.DataFrame(index=summary.index)
    none = pd.Series(None, index=summary.index, dtype=float)
    for c in metrics:
        std, spread = summary.get(f"{c}_std", none), summary.get(f"{c}_std_categories", none)
        out[c] = [mean_std(m, s, digits) + ("" if pd.isna(m) or pd.isna(sc) else f" ({sc:.{digits}f})")
                  for m, s, sc in zip(summary[c], std, spread)]
    for c in ("categories", "seeds", "cells"):
        if c in summary:
            out[c] = summary[c]
    return out


def summary_how(summary: pd.DataFrame) -> str:
    """How the summary's cells were computed, for its caption."""
    several = "seeds" in summary and bool((summary["seeds"] > 1).any())
    spread = any(c.endswith("_std_categories") for c in summary.columns)
    return ("Mean over categories" + (", then mean ± sample std (n − 1) over seeds" if several else "")
            + ("; in parentheses the sample std (n − 1) over categories." if spread else "."))


def summary_tables(df: pd.DataFrame) -> list[Table]:
    """``summary``: method × every registered metric, the best value of each metric bold within
    each training setting only, with every metric's definition in the caption."""
    summary = summary_table(df)
    if summary.empty:
        return []
    specs = [s for s in registry.metrics() if s.name in summary.columns]
    text = summary_display(summary)
    bold = pd.DataFrame(False, index=text.index, columns=text.columns)
    ok = ok_rows(df)
    setting_of = dict(zip(column_labels(ok), settings(ok)))
    groups = pd.Series([setting_of.get(m, "") for m in summary.index], index=summary.index)
    for spec in specs:
        for _, members in groups.groupby(groups):
            sub = summary.loc[members.index, [spec.name]]
            bold.loc[members.index, spec.name] = best_cells(sub, spec.higher_is_better, axis=0)[spec.name]
    how = (summary_how(summary) + " Bold: best per metric within each training setting, ties included."
           + fidelity_legend(ok))
    notes = resolution_notes(df) + fidelity_notes(ok) + [metric_caption(spec) for spec in specs]
    return [Table(name="summary", title="Summary", data=summary, text=text, bold=bold, caption=how, notes=notes,
                  section="Summary", methods_on="index", latex_columns={s.name: s.title for s in specs})]


def main_tables(df: pd.DataFrame) -> list[Table]:
    """``main[-<setting>]``: method × every ``headline`` metric (built-in: image AUROC, pixel
    AUROC, AU-PRO), the mean over categories, per training setting: the compact table a paper
    ``\\input``s, best value per column in bold."""
    headline = [s for s in registry.metrics() if s.headline]
    groups = setting_groups(df)
    tables = []
    for setting, rows in groups:
        summary = summary_table(rows)
        specs = [s for s in headline if s.name in summary.columns]
        if summary.empty or not specs:
            continue
        names = [s.name for s in specs]
        none = pd.Series(None, index=summary.index, dtype=float)
        text = pd.DataFrame({n: [mean_std(m, sd) for m, sd in zip(summary[n], summary.get(f"{n}_std", none))]
                             for n in names}, index=summary.index)
        bold = pd.DataFrame({s.name: best_cells(summary[[s.name]], s.higher_is_better, axis=0)[s.name]
                             for s in specs}, index=summary.index)
        ok = ok_rows(rows)
        n_cats = ok.groupby(["dataset", "category"]).ngroups
        several = bool((summary["seeds"] > 1).any())
        counts = image_counts(ok)
        caption = (f"Mean over {n_cats} categories of {', '.join(sorted(set(ok['dataset'])))}, "
                   f"{_setting(ok, setting)}" + (f" ({counts})" if counts else "")
                   + ("; ± sample std (n − 1) over seeds" if several else "; one seed")
                   + ". Bold: best per column, ties included." + fidelity_legend(ok))
        name = "main" + (f"-{setting_slug(setting)}" if len(groups) > 1 else "")
        tables.append(Table(name=name, title="Main results" + (f", {setting}" if len(groups) > 1 else ""),
                            data=summary[names], text=text, bold=bold, caption=caption,
                            notes=fidelity_notes(ok) + [metric_caption(s) for s in specs], section="Main results",
                            methods_on="index",
                            latex_columns={s.name: s.title for s in specs}))
    return tables


def seeds_tables(df: pd.DataFrame) -> list[Table]:
    """``seeds.csv``: mean, std and n over seeds of every metric and cell, when seeds repeat."""
    seeds = seed_summary(df)
    if seeds.empty or not (seeds["n"] > 1).any():
        return []
    return [Table(name="seeds", title="Seeds", data=seeds, text=seeds.astype(str), csv_index=False,
                  csv_float=None, formats=("csv",))]


FAILURE_COLUMNS = ("method", "dataset", "category", "track", "seed", "profile", "error")


def failures_table(df: pd.DataFrame) -> pd.DataFrame:
    if "status" not in df:
        return pd.DataFrame()
    bad = df[df["status"] != "ok"]
    return bad[[c for c in FAILURE_COLUMNS if c in bad]].reset_index(drop=True)


def failure_tables(df: pd.DataFrame) -> list[Table]:
    """``failures.md``: every failed cell with its error (the HTML lists them too)."""
    fails = failures_table(df)
    if fails.empty:
        return []
    return [Table(name="failures", title="Failed cells", data=fails, text=fails.astype(str), csv_index=False,
                  section="Failures", formats=("md", "html"))]


def unreported_table(df: pd.DataFrame) -> pd.DataFrame:
    """Every registered metric that no successful row scored, with the reasons its rows give
    (how many rows give each): so a metric is never silently absent from the report."""
    ok = ok_rows(df)
    if ok.empty:
        return pd.DataFrame()
    records = []
    for spec in registry.metrics():
        if spec.name in ok and ok[spec.name].notna().any():
            continue
        why: dict[str, int] = {}
        for reasons in ok.get("metric_null_reasons", pd.Series(dtype=object)):
            key = (null_reason(reasons, spec.name) or "not recorded by these rows (an older adbench)")[:200]
            why[key] = why.get(key, 0) + 1
        if not why:
            why = {"not recorded by these rows (an older adbench)": len(ok)}
        records.append({"metric": spec.title, "reason": "; ".join(f"{r} ({n} row{'s' if n > 1 else ''})"
                                                                   for r, n in why.items())})
    return pd.DataFrame(records)


def unreported_tables(df: pd.DataFrame) -> list[Table]:
    """``unreported.md``: the metrics that have no table because no row could score them, and why."""
    table = unreported_table(df)
    if table.empty:
        return []
    return [Table(name="unreported", title="Metrics without a value", data=table, text=table.astype(str),
                  csv_index=False, caption="Registered metrics that no cell could score, and why.",
                  notes=[f"{m}: {r}" for m, r in zip(table["metric"], table["reason"])],
                  section="Metrics without a value", formats=("md", "html"))]
