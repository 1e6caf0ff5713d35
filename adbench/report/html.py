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

from .tables import (cost_display, cost_table, costs_caption, failures_table, method_notes, metric_caption,
                     metric_names, metric_specs, metric_table, metric_title, missing_notes, resolution_groups,
                     resolution_notes, summary_table)

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


def _table_html(table: pd.DataFrame, bold_best: bool = True, digits: int = 3, axis: int = 1,
                lower_is_better: tuple[str, ...] = (), minimize: bool = False) -> str:
    """HTML table; with ``bold_best`` the best value per row (``axis=1``, methods in columns)
    or per column (``axis=0``, methods in rows) is bold; columns in ``lower_is_better`` (with
    ``axis=0``) bold their minimum."""
    if table.empty:
        return "<p>–</p>"
    styler = table.style.format(precision=digits, na_rep="–")
    if bold_best:
        higher = [c for c in table.columns if c not in lower_is_better] if axis == 0 else None
        best = styler.highlight_min if minimize else styler.highlight_max
        styler = best(axis=axis, props="font-weight:bold", subset=higher)
        if axis == 0 and lower_is_better:
            styler = styler.highlight_min(axis=0, props="font-weight:bold",
                                          subset=[c for c in table.columns if c in lower_is_better])
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
    metric_cols = [c for c in metric_names() if c in summary.columns]
    lower = tuple(spec.name for spec in metric_specs() if not spec.higher_is_better)
    parts += ["<h2>Summary</h2>", _table_html(summary[metric_cols], axis=0, lower_is_better=lower)]
    parts += [f"<p class='note'>{html.escape(note)}</p>" for note in resolution_notes(df)]
    if "seeds" in summary and (summary["seeds"] > 1).any():
        parts.append("<p class='note'>Mean over categories, then over seeds; std over seeds in the tables' "
                     "seeds.csv.</p>")
    for spec in metric_specs():
        for resolution, rows in resolution_groups(df, spec):
            table = metric_table(rows, spec.name)
            if table.empty:
                continue
            parts += [f"<h2>{html.escape(metric_title(spec, resolution))}</h2>",
                      _table_html(table, minimize=not spec.higher_is_better)]
            notes = [metric_caption(spec, resolution), *method_notes(rows, spec.name), *missing_notes(rows, table)]
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
