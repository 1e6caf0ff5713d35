"""The rankings view: average rank per method of every ``ranked`` metric, per training setting,
with the Friedman test and the Nemenyi critical difference in the caption (report/ranks.py)."""

from __future__ import annotations

import pandas as pd

from .ranks import rankings
from .rows import setting_slug
from .table import Table


def rank_tables(df: pd.DataFrame) -> list[Table]:
    """``ranks_<metric>_<setting>``: one table per ranked metric and setting."""
    tables = []
    for spec, setting, res in rankings(df):
        t = res.avg_ranks.sort_values().rename("average rank").to_frame()
        t.index.name = "method"
        tables.append(Table(
            name=f"ranks_{spec.name}_{setting_slug(setting)}", title=f"{spec.title}, {setting}: average rank",
            data=t, text=t.map(lambda v: f"{v:.2f}"),
            caption=(f"{spec.title}, {setting} setting: average rank over {res.n_blocks} data set × category "
                     f"cells (1 = best). Friedman p = {res.p_value:.3g}; "
                     + (f"Nemenyi critical difference {res.cd:.2f} at α = {res.alpha:g}." if res.significant else
                        f"no difference is significant at α = {res.alpha:g}.")),
            notes=[f"Friedman χ² = {res.statistic:.3f} over {res.n_blocks} cells and {len(t)} methods (Demšar 2006)."
                   + (f" Methods whose average ranks differ by less than the critical difference {res.cd:.3f} "
                      f"(Nemenyi) are not significantly different; the CD diagram shows which."
                      if res.significant else " The test does not reject equal ranks, so no critical-difference "
                                              "diagram is drawn.")],
            section="Rankings", methods_on="index"))
    return tables
