"""Ranking methods across data set × category cells: Friedman test with the Nemenyi
post-hoc critical difference (Demšar, JMLR 7, 2006), all distributions from scipy.stats."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import registry
from ..metrics.spec import MetricSpec
from .rows import column_labels, ok_rows, settings

#: the significance level of the test and of the critical difference
ALPHA = 0.05


@dataclass(frozen=True)
class RankResult:
    """Average ranks (1 = best), the Friedman test over the blocks and the Nemenyi critical
    difference: two methods whose average ranks differ by less are not significantly
    different at ``alpha``."""

    avg_ranks: pd.Series
    statistic: float
    p_value: float
    cd: float
    n_blocks: int
    alpha: float = ALPHA

    @property
    def significant(self) -> bool:
        """Whether the Friedman test rejects "every method ranks the same" at ``alpha``."""
        return self.p_value < self.alpha

    def cliques(self) -> list[list[str]]:
        """Maximal runs of methods (in rank order) spanning less than the critical difference."""
        order = self.avg_ranks.sort_values()
        names, r = list(order.index), order.to_numpy()
        runs = []
        for i in range(len(r)):
            j = i
            while j + 1 < len(r) and r[j + 1] - r[i] < self.cd:
                j += 1
            if j > i and not any(a <= i and j <= b for a, b in runs):
                runs.append((i, j))
        return [names[a:b + 1] for a, b in runs]


def critical_difference(blocks: pd.DataFrame, higher_is_better: bool = True, alpha: float = ALPHA) -> RankResult:
    """``blocks``: one row per data set × category, one column per method, no missing value;
    at least 3 methods and 2 blocks (the Friedman test needs them)."""
    from scipy import stats  # here, not at import: most runs rank nothing, and it takes 0.5 s to load

    k, n = blocks.shape[1], blocks.shape[0]
    if k < 3 or n < 2:
        raise ValueError(f"the Friedman test needs at least 3 methods and 2 cells, got {k} and {n}")
    values = blocks.to_numpy(dtype=float)
    ranks = stats.rankdata(-values if higher_is_better else values, axis=1)  # ties share their mean rank
    res = stats.friedmanchisquare(*values.T)
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    cd = float(q * np.sqrt(k * (k + 1) / (6.0 * n)))
    return RankResult(pd.Series(ranks.mean(axis=0), index=blocks.columns), float(res.statistic),
                      float(res.pvalue), cd, n, alpha)


def rank_blocks(df: pd.DataFrame, spec: MetricSpec) -> dict[str, pd.DataFrame]:
    """Per training setting: data set × category rows, method columns (mean over seeds), keeping
    only the methods with a value in every cell (a rank needs them all) and the cells that
    every remaining method has."""
    ok = ok_rows(df)
    if spec.name not in ok or ok[spec.name].isna().all():
        return {}
    ok = ok.assign(setting=settings(ok), block=ok["dataset"] + "/" + ok["category"])
    out = {}
    for setting, sub in ok.groupby("setting"):
        sub = sub.assign(column=column_labels(sub))  # one setting: method names, no setting suffix
        t = sub.pivot_table(index="block", columns="column", values=spec.name, aggfunc="mean")
        t = t.dropna(axis=1, how="all").dropna(axis=0, how="any")
        if t.shape[1] >= 3 and t.shape[0] >= 2:
            out[str(setting)] = t
    return out


def rankings(df: pd.DataFrame) -> list[tuple[MetricSpec, str, RankResult]]:
    """``(metric, setting, result)`` for every metric flagged ``ranked`` and every training
    setting with enough methods and cells: what the rankings table and the CD diagrams show."""
    return [(spec, setting, critical_difference(blocks, spec.higher_is_better))
            for spec in registry.metrics() if spec.ranked
            for setting, blocks in rank_blocks(df, spec).items()]
