"""A self-contained ``index.html``: tables, figures (embedded PNG), provenance and failures.

No network: images are base64 data URIs and there is no external CSS or script. A small
inline script records how many images decoded (``data-images-ok`` on ``<body>``), which
the browser test reads.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from pathlib import Path

import pandas as pd

from .tables import (METRICS, cost_display, cost_table, costs_caption, failures_table, metric_table, missing_notes,
                     summary_table)

PROVENANCE = ["adbench_version", "torch_version", "torch_build", "python_version", "git_sha", "host", "device",
              "cpu_model", "gpu_name", "torch_threads", "profile", "seed", "track"]

CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}th,td{border-bottom:1px solid #ddd;
padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}.best{font-weight:bold}
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}figure img{max-width:520px}
figcaption{font-size:12px;color:#555}.err{color:#a00;font-family:monospace;font-size:12px;text-align:left}
.note{font-size:12px;color:#555}"""

SCRIPT = """window.addEventListener('load',()=>{const imgs=[...document.images];
document.body.dataset.imagesTotal=imgs.length;
document.body.dataset.imagesOk=imgs.filter(i=>i.complete&&i.naturalWidth>0).length;});"""


def _table_html(table: pd.DataFrame, bold_best: bool = True, digits: int = 3, axis: int = 1) -> str:
    """HTML table; with ``bold_best`` the best value per row (``axis=1``, methods in columns)
    or per column (``axis=0``, methods in rows) is bold."""
    if table.empty:
        return "<p>–</p>"
    styler = table.style.format(precision=digits, na_rep="–")
    if bold_best:
        styler = styler.highlight_max(axis=axis, props="font-weight:bold")
    return styler.to_html()


def write_html(df: pd.DataFrame, figures: list[Path], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>adbench report</title>"
             f"<style>{CSS}</style></head><body><h1>adbench report</h1>",
             f"<p class='note'>Built {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC} from "
             f"{len(df)} result rows.</p>"]
    parts.append("<h2>Provenance</h2><table>")
    for key in PROVENANCE:
        if key in df:
            values = ", ".join(sorted({str(v) for v in df[key].dropna()}))
            parts.append(f"<tr><td>{key}</td><td>{html.escape(values)}</td></tr>")
    if "plugin_distribution" in df:
        plugins = sorted({f"{m}: {d} {v}" for m, d, v in zip(df["method"], df["plugin_distribution"],
                                                               df.get("plugin_version", [""] * len(df)))})
        parts.append(f"<tr><td>methods</td><td>{html.escape('; '.join(plugins))}</td></tr>")
    parts.append("</table>")
    summary = summary_table(df)
    metric_cols = [c for c in summary.columns if c in METRICS]
    parts += ["<h2>Summary</h2>", _table_html(summary[metric_cols], axis=0)]
    if "seeds" in summary and (summary["seeds"] > 1).any():
        parts.append("<p class='note'>Mean over categories, then over seeds; std over seeds in the tables' "
                     "seeds.csv.</p>")
    for metric, title in METRICS.items():
        table = metric_table(df, metric)
        if table.empty:
            continue
        parts += [f"<h2>{title}</h2>", _table_html(table)]
        notes = missing_notes(df, table)
        if metric == "pixel_auroc":
            notes.insert(0, 'VT-ADL\'s published "PRO" is this pixel AUROC, not AU-PRO.')
        parts += [f"<p class='note'>{html.escape(n)}</p>" for n in notes]
    costs = cost_table(df)
    if not costs.empty:
        shown, notes = cost_display(costs)
        parts += ["<h2>Costs</h2>", _table_html(shown.set_index(["method", "device"]), bold_best=False),
                  f"<p class='note'>{html.escape(costs_caption(df))}</p>"]
        parts += [f"<p class='note'>{html.escape(n)}</p>" for n in notes]
    pngs = [p for p in figures if p.suffix == ".png"]
    if pngs:
        parts.append("<h2>Figures</h2>")
        for p in pngs:
            data = base64.b64encode(p.read_bytes()).decode()
            parts.append(f"<figure><img alt='{p.stem}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{p.stem} (<a href='figures/{p.stem}.pdf'>PDF</a>)</figcaption></figure>")
    fails = failures_table(df)
    parts.append(f"<h2>Failures ({len(fails)})</h2>")
    if fails.empty:
        parts.append("<p>none</p>")
    else:
        parts.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in fails.columns) + "</tr>")
        for _, r in fails.iterrows():
            parts.append("<tr>" + "".join(f"<td class='{'err' if c == 'error' else ''}'>{html.escape(str(v))}</td>"
                                          for c, v in r.items()) + "</tr>")
        parts.append("</table>")
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    path = out_dir / "index.html"
    path.write_text("\n".join(parts))
    return path
