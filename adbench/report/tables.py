"""Per-metric tables (category × method, mean row) built from result rows alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import registry
from ..costs.fields import COST_COLUMNS, COST_ERRORS, FITTED_WEIGHTS
from ..metrics.spec import MetricSpec
from .latex import LatexTable, latex_text, render


def metric_specs() -> list[MetricSpec]:
    """The registered metrics, in registration order: every table, the summary and the HTML
    iterate these, so a plugin's metric reaches them all."""
    return registry.metrics()


def metric_names() -> list[str]:
    return [spec.name for spec in metric_specs()]


def metric_caption(spec: MetricSpec, resolution: str | None = None) -> str:
    """"Title: definition." for captions and notes, and where pixels were scored, if given."""
    return (f"{spec.title}: {spec.definition}" + ("" if spec.definition.endswith(".") else ".")
            + ("" if spec.higher_is_better else " Lower is better.")
            + (f" {RESOLUTION_NOTES[resolution]}" if resolution else ""))


def metric_title(spec: MetricSpec, resolution: str | None = None) -> str:
    """A metric table's heading, naming the evaluation resolution when there is one."""
    return spec.title + (f" ({resolution} resolution)" if resolution else "")


def method_notes(df: pd.DataFrame, metric: str) -> list[str]:
    """What methods say about this metric (``Method.notes``, recorded in their rows)."""
    if "method_notes" not in df:
        return []
    found: dict[str, str] = {}
    for method, notes in zip(df["method"], df["method_notes"]):
        if isinstance(notes, dict) and notes.get(metric):
            found.setdefault(method, str(notes[metric]))
    return [f"{m}: {n}" for m, n in sorted(found.items())]


#: the mark a method's fidelity (``Method.fidelity``, in its rows) puts after its name in every
#: table and figure, and the footnote that explains it
FIDELITY_MARKS = {
    "reading": ("†", "a reading: the publication leaves choices open and adbench made them (the plugin's README "
                     "lists each)"),
    "substitute": ("‡", "a substitute: another network stands in for the published method (the plugin's README "
                        "says which)"),
}


def method_labels(df: pd.DataFrame) -> pd.Series:
    """Each row's method name with its fidelity mark (``pyramidal_ae†``, ``unet‡``)."""
    if "fidelity" not in df:
        return df["method"]
    marks = df["fidelity"].map(lambda f: FIDELITY_MARKS[f][0] if isinstance(f, str) and f in FIDELITY_MARKS else "")
    return df["method"] + marks


def fidelity_notes(df: pd.DataFrame) -> list[str]:
    """The footnotes of the fidelity marks that ``df``'s methods carry."""
    present = set(df["fidelity"].dropna()) if "fidelity" in df else set()
    return [f"{mark} {text}." for level, (mark, text) in FIDELITY_MARKS.items() if level in present]


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The successful rows (a row written without a seed counts as seed 0)."""
    ok = df[df["status"] == "ok"] if "status" in df else df.iloc[0:0]
    return ok if "seed" in ok else ok.assign(seed=0)


def settings(df: pd.DataFrame) -> pd.Series:
    """Each row's training setting: its track and, on the supervised track, how many anomalies
    went into training ("supervised, k=5", "supervised, ratio 0.05"). Rows of different
    settings are never averaged together, and no table mixes them when a run has several."""
    k = df["k_anomalies"] if "k_anomalies" in df else pd.Series(None, index=df.index, dtype=object)
    r = df["anomaly_ratio"] if "anomaly_ratio" in df else pd.Series(None, index=df.index, dtype=object)

    def one(track: object, k: object, r: object) -> str:
        track = str(track) if isinstance(track, str) else "unsupervised"
        if track != "supervised":
            return track
        if r is not None and not pd.isna(r):
            return f"supervised, ratio {float(r):g}"
        if k is not None and not pd.isna(k):
            return f"supervised, k={int(k)}"
        return "supervised"

    track = df["track"] if "track" in df else pd.Series("unsupervised", index=df.index)
    return pd.Series([one(t, a, b) for t, a, b in zip(track, k, r)], index=df.index, dtype=object)


def setting_slug(setting: str) -> str:
    """A setting as a file-name part: ``supervised-k5``, ``supervised-ratio0.05``."""
    return setting.replace(", k=", "-k").replace(", ratio ", "-ratio").replace(" ", "")


def _short_setting(setting: str, detailed: bool) -> str:
    short = setting[:3]
    if detailed and "," in setting:
        short += " " + setting.split(", ", 1)[1].replace("ratio ", "r=")
    return short


def _column(df: pd.DataFrame) -> pd.Series:
    """Method label; the setting is added when one run mixes settings (track, and the amount
    of supervision when several supervised settings meet, so ratios are never averaged), and
    the evaluation resolution when rows scored at different resolutions meet."""
    label = method_labels(df)
    setting = settings(df)
    if setting.nunique() > 1:
        detailed = setting[setting.str.startswith("supervised")].nunique() > 1
        label = label + " (" + setting.map(lambda v: _short_setting(v, detailed)) + ")"
    res = eval_resolutions(df)
    if res.dropna().nunique() > 1:
        label = label + res.map(lambda r: f" @{r}" if isinstance(r, str) else "")
    return label


#: what each evaluation resolution means, for every pixel-metric caption
RESOLUTION_NOTES = {
    "native": "Scored at native resolution: each test image's map is upsampled (bilinear) to its own "
              "ground-truth size, and masks are never resized, so every method is scored on the same pixels.",
    "input": "Scored at each method's input size (masks resized with nearest-neighbour): methods with different "
             "input sizes are scored on different pixels, and small defects can vanish.",
}


def eval_resolutions(df: pd.DataFrame) -> pd.Series:
    """Each row's evaluation resolution: ``eval_resolution``, or "input" for rows with pixel
    values written before it was recorded; None for rows without maps."""
    res = df["eval_resolution"] if "eval_resolution" in df else pd.Series(None, index=df.index, dtype=object)
    pixel_cols = [spec.name for spec in metric_specs() if spec.level == "pixel" and spec.name in df]
    scored = df[pixel_cols].notna().any(axis=1) if pixel_cols else pd.Series(False, index=df.index)
    return res.where(res.notna() | ~scored, "input")


def resolution_notes(df: pd.DataFrame) -> list[str]:
    """One line per evaluation resolution found in the rows, for summaries that span metrics."""
    return [f"Pixel metrics: {RESOLUTION_NOTES[r]}" for r in sorted(set(eval_resolutions(df).dropna()))]


def resolution_groups(df: pd.DataFrame, spec: MetricSpec) -> list[tuple[str | None, pd.DataFrame]]:
    """A pixel metric's rows split by evaluation resolution (one table each, never mixed);
    rows without a value (failed, not run) go with every group, for the missing notes."""
    if spec.level != "pixel":
        return [(None, df)]
    res = eval_resolutions(df)
    found = sorted(set(res.dropna()))
    if len(found) <= 1:
        return [(found[0] if found else None, df)]
    return [(r, df[(res == r) | res.isna()]) for r in found]


def table_groups(df: pd.DataFrame, spec: MetricSpec) -> list[tuple[str, str | None, str | None, pd.DataFrame]]:
    """``(file name, resolution, setting, rows)`` per table of one metric: split by evaluation
    resolution (pixel metrics) and, when the rows hold several, by training setting."""
    out = []
    res_groups = resolution_groups(df, spec)
    for resolution, rows in res_groups:
        name = spec.name if len(res_groups) == 1 else f"{spec.name}-{resolution}"
        groups = setting_groups(rows)
        for value, part in groups:
            out.append((f"{name}-{setting_slug(value)}" if len(groups) > 1 else name, resolution, value, part))
    return out


def setting_groups(df: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """``(setting, rows)`` per training setting found in ``df``, sorted; one group holding
    every row when there is at most one (its setting, or None for no rows)."""
    setting = settings(df) if len(df) else pd.Series(dtype=object)
    found = sorted(set(setting))
    if len(found) <= 1:
        return [(found[0] if found else None, df)]
    return [(value, df[setting == value]) for value in found]


def _seed_values(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One value per (row label, method column, seed): the categories, plus per data set the
    mean over its categories computed seed by seed."""
    ok = ok_rows(df)
    if metric not in ok or ok[metric].isna().all():
        return pd.DataFrame()
    ok = ok.assign(column=_column(ok), row=ok["dataset"] + "/" + ok["category"])
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
    for metric in metric_names():
        stats = metric_stats(df, metric)
        if not stats:
            continue
        long = {k: v.stack(future_stack=True).rename(k) for k, v in stats.items()}
        t = pd.concat(long.values(), axis=1).reset_index().rename(columns={"column": "method", "level_1": "method"})
        t.insert(2, "metric", metric)
        parts.append(t.dropna(subset=["mean"]))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def mean_std(mean: float, std: float | None, digits: int = 3) -> str:
    """"mean ± std", or "mean" when there is no spread to show, or "–" for no value."""
    if pd.isna(mean):
        return "–"
    return f"{mean:.{digits}f}" + ("" if std is None or pd.isna(std) else f" ± {std:.{digits}f}")


def with_spread(mean: pd.DataFrame, std: pd.DataFrame, n: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Cells as "mean ± std" where more than one seed was run, else "mean"; "–" for none."""
    return pd.DataFrame({c: [mean_std(m, s if k > 1 else None, digits) for m, s, k in zip(mean[c], std[c], n[c])]
                         for c in mean.columns}, index=mean.index)


def summary_table(df: pd.DataFrame) -> pd.DataFrame:
    """Method × metric, mean over categories then over seeds: the console summary. With more
    than one seed, ``<metric>_std`` holds the std over seeds of the category mean; with more
    than one category, ``<metric>_std_categories`` the sample std over the data set/category
    cells of their seed means (how much a method's score depends on the category)."""
    ok = ok_rows(df)
    cols = [m for m in metric_names() if m in ok and not ok[m].isna().all()]
    if ok.empty or not cols:
        return pd.DataFrame()
    ok = ok.assign(column=_column(ok))
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


def summary_display(summary: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The summary as text: "mean ± std over seeds" per metric when seeds were repeated, then the
    std over categories in parentheses when there were several; "–" for none."""
    metrics = [c for c in summary.columns if c in metric_names()]
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
    return ("Mean over categories" + (", then mean ± std over seeds" if several else "")
            + ("; in parentheses the std over categories." if spread else "."))


def failures_table(df: pd.DataFrame) -> pd.DataFrame:
    if "status" not in df:
        return pd.DataFrame()
    bad = df[df["status"] != "ok"]
    cols = [c for c in ("method", "dataset", "category", "track", "seed", "profile", "error") if c in bad]
    return bad[cols].reset_index(drop=True)


def to_markdown(table: pd.DataFrame, digits: int = 3, bold_best: bool = False, higher_is_better: bool = True) -> str:
    """Markdown; missing values as "–"; with ``bold_best`` the best value of each row in bold."""
    if not bold_best or table.empty:
        return table.to_markdown(floatfmt=f".{digits}f", missingval="–")
    best = table.max(axis=1) if higher_is_better else table.min(axis=1)

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


NOISY_MARK = "*"


def cost_table(df: pd.DataFrame) -> pd.DataFrame:
    """Method × device: inference parameters (and total), fvcore GMACs, latency (median and
    IQR of single passes), peak memory of a training step and ONNX size. ``latency_noisy`` and
    ``na_reasons`` (why a figure is missing) come along for the formatted tables."""
    ok = ok_rows(df)
    cols = [c for c in COST_COLUMNS if c in ok]
    if ok.empty or not cols:
        return pd.DataFrame()
    groups = ok.groupby(["method", "device"])
    t = groups[cols].median(numeric_only=True)
    for c in ("params_inference", "params_total"):
        if c in t:
            t[c] = t[c] / 1e6
    t["latency_noisy"] = groups["latency_noisy"].agg(lambda s: bool(s.fillna(False).any())) \
        if "latency_noisy" in ok else False
    t["na_reasons"] = groups.apply(_na_reasons, include_groups=False)
    t = t.reset_index()
    t["costs_source"] = groups["costs_source"].first().to_numpy() if "costs_source" in ok else "the run rows"
    return t.rename(columns=COST_COLUMNS)


def _na_reasons(rows: pd.DataFrame) -> str:
    """"figure: error" for each cost figure these rows could not measure."""
    reasons = []
    for key, err_key in COST_ERRORS.items():
        if key in rows and rows[key].isna().all():
            err = rows[err_key].dropna() if err_key in rows else pd.Series(dtype=object)
            note = rows["memory_note"].dropna() if key == "backward_mb" and "memory_note" in rows else err
            reason = str((err if len(err) else note).iloc[0]) if len(err) or len(note) else "not measured"
            reasons.append(f"{COST_COLUMNS[key]}: {reason.splitlines()[0][:160]}")
    return "; ".join(dict.fromkeys(reasons))


def cost_display(costs: pd.DataFrame, digits: int = 3) -> tuple[pd.DataFrame, list[str]]:
    """The cost table as text: "n/a" for a figure that could not be measured, ``*`` after a
    noisy latency (IQR above a quarter of the median), plus the footnotes that explain both."""
    shown = costs.drop(columns=["latency_noisy", "na_reasons", "costs_source"], errors="ignore").copy()
    for c in shown.columns:
        if c in ("method", "device"):
            continue
        shown[c] = [("n/a" if pd.isna(v) else f"{v:.{digits}g}") for v in shown[c]]
    notes = []
    lat = COST_COLUMNS["latency_ms"]
    if "latency_noisy" in costs and costs["latency_noisy"].any() and lat in shown:
        shown.loc[costs["latency_noisy"].to_numpy(), lat] += NOISY_MARK
        notes.append(f"{NOISY_MARK} noisy latency: the IQR of its single passes is above 25 % of the median.")
    for m, d, r in zip(costs["method"], costs["device"], costs.get("na_reasons", [""] * len(costs))):
        if r:
            notes.append(f"n/a for {m} ({d}): {r}")
    return shown, notes


def costs_caption(df: pd.DataFrame) -> str:
    """Where the cost figures come from and how they were measured, for every cost caption."""
    ok = ok_rows(df)
    sources = sorted(set(ok["costs_source"].dropna())) if "costs_source" in ok else []
    threads = sorted({int(v) for v in ok["costs_torch_threads"].dropna()}) if "costs_torch_threads" in ok else []
    cpus = sorted(set(ok["costs_cpu_model"].dropna())) if "costs_cpu_model" in ok else []
    profiled = ok["profiled_weights"].dropna().astype(str) if "profiled_weights" in ok else pd.Series(dtype=str)
    on_fitted = profiled.str.startswith(FITTED_WEIGHTS)
    weights = sorted(set(profiled[~on_fitted]))
    fitted_methods = sorted(set(ok.loc[on_fitted[on_fitted].index, "method"]))
    if fitted_methods:  # one bank per category: one entry per method, not one per bank
        weights.append(f"each cell's fitted model for {', '.join(fitted_methods)} (their cost follows the fitted "
                       f"state, e.g. a memory bank, given per cell in the rows' fitted_state; the table shows the "
                       f"median over cells)")
    return (f"Cost figures from {', '.join(sources) or 'the run rows'}; "
            f"CPU {', '.join(cpus) or 'unknown'}, {', '.join(map(str, threads)) or '?'} torch thread(s); "
            f"weights: {', '.join(weights) or 'unknown'}. Latency: median and IQR of single forward passes at "
            f"batch 1 (at least 1 s and 20 passes timed). Memory: peak allocated bytes of one training step "
            f"at the method's training batch size. Parameters: what inference uses (total includes "
            f"training-only parts). fvcore counts one multiply-add as one flop (GMACs).")


def _tex_label(name: str) -> str:
    return "tab:" + "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in name)


def metric_latex(stats: dict[str, pd.DataFrame], spec: MetricSpec, caption: str, name: str,
                 transpose: bool = False) -> str:
    """One metric at one resolution and setting as a paper table: methods as rows, the
    categories and their mean as columns (``transpose``: categories as rows); the best value
    of each category in bold; cells "mean ± std" where seeds were repeated."""
    mean, std, n = stats["mean"], stats["std"], stats["n"]
    several = bool((n.fillna(0) > 1).to_numpy().any())
    datasets = sorted({str(r).split("/", 1)[0] for r in mean.index})
    label = (lambda r: str(r).split("/", 1)[1]) if len(datasets) == 1 else str
    text = with_spread(mean, std, n) if several else mean.map(lambda v: "–" if pd.isna(v) else f"{v:.3f}")
    best_value = mean.max(axis=1) if spec.higher_is_better else mean.min(axis=1)
    best = mean.eq(best_value, axis=0) & mean.notna()
    if not transpose:  # methods as rows
        header = ["method"] + [label(r) for r in mean.index]
        rows = [[str(m)] + [text.at[r, m] for r in mean.index] for m in mean.columns]
        bold = [[False] + [bool(best.at[r, m]) for r in mean.index] for m in mean.columns]
        where = (f"Rows: methods; columns: the categories of {', '.join(datasets)} and their mean. "
                 "Best value per category in bold.")
    else:
        header = ["category"] + [str(m) for m in mean.columns]
        rows = [[label(r)] + [text.at[r, m] for m in mean.columns] for r in mean.index]
        bold = [[False] + [bool(best.at[r, m]) for m in mean.columns] for r in mean.index]
        where = (f"Rows: the categories of {', '.join(datasets)} and their mean; columns: methods. "
                 "Best value per category in bold.")
    spread = (" Mean $\\pm$ std over seeds; a mean averages the categories seed by seed." if several
              else " One seed per cell.")
    table = LatexTable(header, rows, bold, caption=latex_text(caption + " " + where) + spread,
                       label=_tex_label(name), key_title="Categories", abbreviate=not transpose)
    return render(table)


def write_metric_tables(df: pd.DataFrame, out_dir: Path, formats: tuple[str, ...] = ("csv", "md"),
                        transpose: bool = False) -> list[Path]:
    """One file per metric, table group (:func:`table_groups`) and format under ``out_dir``;
    returns what was written. With several seeds the Markdown and LaTeX cells read
    "mean ± std" and ``seeds.csv`` holds mean, std and n of every metric and cell."""
    from .detail_tables import write_detail_tables

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for spec in metric_specs():
        for name, resolution, setting, rows in table_groups(df, spec):
            written += _write_metric_table(rows, spec, resolution, setting, name, out_dir, formats, transpose)
    written += _write_summary_tables(df, out_dir, formats)
    seeds = seed_summary(df)
    if "csv" in formats and not seeds.empty and (seeds["n"] > 1).any():
        written.append(out_dir / "seeds.csv")
        seeds.to_csv(written[-1], index=False)
    written += _write_cost_tables(df, out_dir, formats)
    written += write_detail_tables(df, out_dir, formats)
    fails = failures_table(df)
    if not fails.empty:
        written.append(out_dir / "failures.md")
        written[-1].write_text("## Failed cells\n\n" + fails.to_markdown(index=False) + "\n")
    return written


def _write_metric_table(df: pd.DataFrame, spec: MetricSpec, resolution: str | None, setting: str | None, name: str,
                        out_dir: Path, formats: tuple[str, ...], transpose: bool) -> list[Path]:
    """``<name>.csv/.md/.tex`` of one metric (at one evaluation resolution, in one setting)."""
    metric, title = spec.name, metric_title(spec, resolution) + (f", {setting}" if setting else "")
    written: list[Path] = []
    stats = metric_stats(df, metric)
    if not stats:
        return written
    table = stats["mean"]
    several = bool((stats["n"].fillna(0) > 1).to_numpy().any())
    shown = with_spread(stats["mean"], stats["std"], stats["n"]) if several else None
    caption = metric_caption(spec, resolution) + (f" Setting: {setting}." if setting else "")
    if "csv" in formats:
        written.append(out_dir / f"{name}.csv")
        table.to_csv(written[-1], float_format="%.6f")
    if "md" in formats:
        written.append(out_dir / f"{name}.md")
        notes = [caption,
                 "Best value per row in bold; rows `dataset/category`; "
                 + ("mean ± std over seeds (n per cell in seeds.csv); a data set's mean row averages its "
                    "categories seed by seed." if several else "one seed per cell.")]
        notes += method_notes(df, metric) + fidelity_notes(df)
        notes += [f"– {n}" for n in missing_notes(df, table)]
        body = "\n".join(f"{i + 1}. {n}" for i, n in enumerate(notes))
        md = (to_markdown(table, bold_best=True, higher_is_better=spec.higher_is_better) if shown is None
              else _bold_shown(table, shown, spec.higher_is_better))
        written[-1].write_text(f"## {title}\n\n{md}\n\n{body}\n")
    if "tex" in formats:
        written.append(out_dir / f"{name}.tex")
        notes = " ".join(method_notes(df, metric) + fidelity_notes(df))
        written[-1].write_text(metric_latex(stats, spec, caption + (f" {notes}" if notes else ""), name, transpose))
    return written


def _write_summary_tables(df: pd.DataFrame, out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    """``summary.*``: method × every registered metric (the run summary), with every metric's
    definition in the caption."""
    summary = summary_table(df)
    if summary.empty:
        return []
    specs = [spec for spec in metric_specs() if spec.name in summary.columns]
    shown = summary_display(summary)
    how = summary_how(summary)
    how += "".join(f" {note}" for note in resolution_notes(df) + fidelity_notes(ok_rows(df)))
    written: list[Path] = []
    if "csv" in formats:
        written.append(out_dir / "summary.csv")
        summary.to_csv(written[-1], float_format="%.6f")
    if "md" in formats:
        written.append(out_dir / "summary.md")
        notes = [how] + [metric_caption(spec) for spec in specs]
        written[-1].write_text("## Summary\n\n" + shown.to_markdown(colalign=["left"] + ["right"] * shown.shape[1],
                                                                      disable_numparse=True)
                               + "\n\n" + "".join(f"- {n}\n" for n in notes))
    if "tex" in formats:
        written.append(out_dir / "summary.tex")
        header = ["method"] + [spec.title for spec in specs]
        rows = [[str(m)] + [str(shown.at[m, spec.name]) for spec in specs] for m in shown.index]
        caption = latex_text(" ".join([how] + [metric_caption(spec) for spec in specs]))
        written[-1].write_text(render(LatexTable(header, rows, caption=caption, label="tab:summary")))
    return written


def _bold_shown(table: pd.DataFrame, shown: pd.DataFrame, higher_is_better: bool = True) -> str:
    """Markdown of text cells, the best mean of each row in bold."""
    best = table.max(axis=1) if higher_is_better else table.min(axis=1)
    out = shown.copy()
    for c in table.columns:
        out[c] = [f"**{s}**" if v == b else s for s, v, b in zip(shown[c], table[c], best)]
    return out.to_markdown(colalign=["left"] + ["right"] * len(out.columns), disable_numparse=True)


#: the cost tables' column titles, shortened for LaTeX (the caption defines each figure)
COST_TEX_COLUMNS = {COST_COLUMNS["params_inference"]: "params (M)", COST_COLUMNS["params_total"]: "total (M)",
                    COST_COLUMNS["gmacs"]: "GMACs", COST_COLUMNS["latency_ms"]: "ms", COST_COLUMNS["latency_iqr_ms"]:
                    "IQR ms", COST_COLUMNS["forward_mb"]: "fwd MiB", COST_COLUMNS["backward_mb"]: "bwd MiB",
                    COST_COLUMNS["memory_batch"]: "batch", COST_COLUMNS["model_size_mb"]: "model MiB",
                    COST_COLUMNS["onnx_size_mb"]: "ONNX MiB"}


def _write_cost_tables(df: pd.DataFrame, out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    costs = cost_table(df)
    if costs.empty:
        return []
    written: list[Path] = []
    shown, notes = cost_display(costs)
    caption = costs_caption(df)
    if "csv" in formats:
        written.append(out_dir / "costs.csv")
        costs.to_csv(written[-1], index=False, float_format="%.6g")
    if "md" in formats:
        written.append(out_dir / "costs.md")
        written[-1].write_text("## Costs\n\n" + shown.to_markdown(index=False, disable_numparse=True) + "\n\n"
                               + caption + "\n\n"
                               + "".join(f"- {n}\n" for n in notes))
    if "tex" in formats:
        written.append(out_dir / "costs.tex")
        tex_caption = caption + "".join(f" {n}" for n in notes if not n.startswith("n/a"))
        devices = sorted(set(shown["device"]))
        body = shown.drop(columns=["device"]) if len(devices) == 1 else shown
        if len(devices) == 1:
            tex_caption += f" Device: {devices[0]}."
        tex_caption += (" Columns: params = inference parameters, total = all parameters, ms / IQR ms = latency "
                        "median / IQR, fwd / bwd MiB = peak memory of the forward / backward pass at the "
                        "memory batch, model / ONNX MiB = weights in PyTorch / the ONNX file.")
        header = [COST_TEX_COLUMNS.get(str(c), str(c)) for c in body.columns]
        rows = [[str(v) for v in r] for r in body.itertuples(index=False)]
        written[-1].write_text(render(LatexTable(header, rows, caption=latex_text(tex_caption), label="tab:costs")))
    return written
