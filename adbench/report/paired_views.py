"""Paired tests between methods on the same test images, for every metric with per-image values
(``MetricSpec.per_image``; built-in: AUPIMO): the Wilcoxon signed-rank test (scipy), p-values
Holm-corrected over all pairs of one training setting, and the matched-pairs rank-biserial
correlation as effect size (Kerby 2014). Pairs are formed within one setting only: the two
tracks test on different images."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .. import registry
from .rows import column_labels, ok_rows, setting_groups, setting_slug
from .table import Table

#: significance level of the Holm-corrected tests
ALPHA = 0.05


def per_image_frame(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Tidy per-image values of ``metric``: label, dataset, category, image path, value (each
    method's first seed; images without a value left out)."""
    ok = ok_rows(df)
    if ok.empty or "per_image" not in ok:
        return pd.DataFrame()
    ok = ok.assign(label=column_labels(ok))
    ok = ok[ok["seed"] == ok.groupby(["label", "dataset", "category"])["seed"].transform("min")]
    records = [{"label": r["label"], "dataset": r["dataset"], "category": r["category"], "path": path, "value": v}
               for _, r in ok.iterrows() if isinstance(r["per_image"], dict)
               for path, v in (r["per_image"].get(metric) or {}).items() if v is not None]
    return pd.DataFrame(records)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979), in the input order."""
    p = np.asarray(p_values, float)
    order = np.argsort(p)
    adjusted = np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order])
    out = np.empty_like(p)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def rank_biserial(differences: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation of the non-zero differences: +1 when the first
    method is better on every image, −1 when the second is."""
    from scipy.stats import rankdata

    d = differences[differences != 0]
    if not d.size:
        return 0.0
    ranks = rankdata(np.abs(d))
    return float((ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum())


def paired_table(values: pd.DataFrame, higher_is_better: bool = True) -> pd.DataFrame:
    """One line per pair of methods: images both scored, median difference (first − second),
    Wilcoxon statistic and p-value, Holm-adjusted p, effect size, and which is better where
    the adjusted p is below :data:`ALPHA`."""
    from scipy.stats import wilcoxon

    if values.empty:
        return pd.DataFrame()
    wide = values.pivot_table(index=["dataset", "category", "path"], columns="label", values="value", aggfunc="first")
    lines = []
    for a, b in itertools.combinations(sorted(wide.columns), 2):
        both = wide[[a, b]].dropna()
        d = (both[a] - both[b]).to_numpy()
        line = {"method_a": a, "method_b": b, "images": len(both), "median_difference": float(np.median(d))
                if len(d) else np.nan, "statistic": np.nan, "p": np.nan, "effect_size": rank_biserial(d)}
        if np.count_nonzero(d):
            res = wilcoxon(both[a], both[b])
            line.update(statistic=float(res.statistic), p=float(res.pvalue))
        elif len(d):
            line["p"] = 1.0  # identical on every image
        lines.append(line)
    if not lines:  # fewer than two methods: nothing to pair
        return pd.DataFrame()
    table = pd.DataFrame(lines)
    tested = table["p"].notna()
    table["p_holm"] = np.nan
    table.loc[tested, "p_holm"] = holm(table.loc[tested, "p"].to_numpy())
    sign = np.sign(table["median_difference"].fillna(0) if higher_is_better else -table["median_difference"].fillna(0))
    better = np.where(sign > 0, table["method_a"], np.where(sign < 0, table["method_b"], "–"))
    table["better"] = np.where(table["p_holm"] < ALPHA, better, "–")
    return table


def paired_tables(df: pd.DataFrame) -> list[Table]:
    """``paired_<metric>[-<setting>]``: the paired tests of every metric with per-image values."""
    tables = []
    groups = setting_groups(df)
    for spec in registry.metrics():
        if spec.per_image is None:
            continue
        for setting, rows in groups:
            t = paired_table(per_image_frame(rows, spec.name), spec.higher_is_better)
            if t.empty:
                continue
            suffix = f"-{setting_slug(setting)}" if len(groups) > 1 and setting else ""
            text = t.copy()
            for col in ("median_difference", "effect_size"):
                text[col] = [f"{v:+.3f}" if pd.notna(v) else "–" for v in t[col]]
            for col in ("p", "p_holm"):
                text[col] = [f"{v:.2g}" if pd.notna(v) else "–" for v in t[col]]
            text["statistic"] = [f"{v:g}" if pd.notna(v) else "–" for v in t["statistic"]]
            significant = int((t["better"] != "–").sum())
            tables.append(Table(
                name=f"paired_{spec.name}{suffix}", title=f"{spec.title}: paired tests" + (f", {setting}" if suffix
                                                                                          else ""),
                data=t, text=text.astype(str), csv_index=False, csv_float="%.6g", section="Paired tests",
                caption=(f"{spec.title} per image, {setting or 'one'} setting: Wilcoxon signed-rank test of each pair "
                         f"on the anomalous images both scored, Holm-corrected over {len(t)} pairs; {significant} "
                         f"differ at α = {ALPHA:g}. Effect: rank-biserial correlation."),
                notes=[f"{spec.title}: {spec.definition}.", "median_difference and effect_size are method_a minus "
                       "method_b; better names the better method where p_holm < 0.05 (first seed of each method)."],
                formats=("csv", "md")))
    return tables
