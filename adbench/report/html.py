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

from .detail_tables import CI_METRICS, PER_DEFECT_METRICS, ci_caption, ci_display, ci_table, per_defect_table
from .figures import figure_caption
from .ranks import critical_difference, rank_blocks
from .tables import (cost_display, cost_table, costs_caption, failures_table, fidelity_notes, method_notes,
                     metric_caption, metric_names, metric_specs, metric_table, metric_title, missing_notes,
                     ok_rows, resolution_notes, setting_groups, summary_display, summary_how, summary_table,
                     table_groups)

PROVENANCE = ["adbench_version", "torch_version", "torch_build", "python_version", "git_sha", "host", "device",
              "cpu_model", "gpu_name", "torch_threads", "profile", "seed", "track"]

CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}th,td{border-bottom:1px solid #ddd;
padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}.best{font-weight:bold}
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}figure img{max-width:520px}
figcaption{font-size:12px;color:#555}.err{color:#a00;font-family:monospace;font-size:12px;text-align:left}
.note{font-size:12px;color:#555}nav ol{columns:2;font-size:14px}h2{border-top:1px solid #ccc;padding-top:.4em}"""

SCRIPT = """window.addEventListener('load',()=>{const imgs=[...document.images];
document.body.dataset.imagesTotal=imgs.length;
document.body.dataset.imagesOk=imgs.filter(i=>i.complete&&i.naturalWidth>0).length;});"""


def _table_html(table: pd.DataFrame, bold_best: bool = True, digits: int = 3, axis: int = 1,
                lower_is_better: tuple[str, ...] = (), minimize: bool = False,
                shown: pd.DataFrame | None = None) -> str:
    """HTML table; with ``bold_best`` the best value per row (``axis=1``, methods in columns)
    or per column (``axis=0``, methods in rows) is bold; columns in ``lower_is_better`` (with
    ``axis=0``) bold their minimum. ``shown`` (same shape, text) replaces the printed cells,
    while "best" is still read from the numbers of ``table``."""
    if table.empty:
        return "<p>–</p>"
    styler = (table.style.format(precision=digits, na_rep="–") if shown is None
              else shown.style)
    if bold_best:
        numbers = table.apply(pd.to_numeric, errors="coerce")
        if axis == 1:
            best = numbers.min(axis=1) if minimize else numbers.max(axis=1)
            mask = numbers.eq(best, axis=0)
        else:
            lows = [c for c in numbers.columns if minimize or c in lower_is_better]
            best = pd.Series({c: numbers[c].min() if c in lows else numbers[c].max() for c in numbers.columns})
            mask = numbers.eq(best, axis=1)
        styler = styler.apply(lambda _: mask.replace({True: "font-weight:bold", False: ""}), axis=None)
    return styler.to_html()


class _Page:
    """Sections with anchors, collected for the table of contents."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.toc: list[tuple[str, str]] = []

    def section(self, title: str, level: int = 2) -> None:
        anchor = f"s{len(self.toc) + 1}"
        if level == 2:
            self.toc.append((anchor, title))
        self.parts.append(f"<h{level} id='{anchor}'>{html.escape(title)}</h{level}>")

    def note(self, text: str) -> None:
        self.parts.append(f"<p class='note'>{html.escape(text)}</p>")

    def add(self, raw: str) -> None:
        self.parts.append(raw)


def _summary_by_setting(df: pd.DataFrame, page: _Page) -> None:
    """The summary, one table per training setting, so "best" is bolded only within a track."""
    lower = tuple(spec.name for spec in metric_specs() if not spec.higher_is_better)
    groups = setting_groups(df)
    for setting, rows in groups:
        summary = summary_table(rows)
        if summary.empty:
            continue
        metric_cols = [c for c in metric_names() if c in summary.columns]
        if len(groups) > 1:
            page.add(f"<h3>{html.escape(setting)}</h3>")
        page.add(_table_html(summary[metric_cols], axis=0, lower_is_better=lower,
                             shown=summary_display(summary)[metric_cols]))
        page.note(summary_how(summary))


def write_html(df: pd.DataFrame, figures: list[Path], out_dir: Path) -> Path:
    """``index.html``: provenance, metric definitions, summary per setting, every metric table,
    confidence intervals, per-defect tables, rankings, costs, captioned figures (each linked to
    its PDF) and failures, with a table of contents."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = _Page()
    page.section("Provenance")
    page.note(f"Built {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC} from {len(df)} result rows.")
    page.add("<table>")
    for key in PROVENANCE:
        if key in df:
            values = ", ".join(sorted({str(v) for v in df[key].dropna()}))
            page.add(f"<tr><td>{key}</td><td>{html.escape(values)}</td></tr>")
    if "plugin_distribution" in df:
        plugins = sorted({f"{m}: {d} {v}" for m, d, v in zip(df["method"], df["plugin_distribution"],
                                                               df.get("plugin_version", [""] * len(df)))})
        page.add(f"<tr><td>methods</td><td>{html.escape('; '.join(plugins))}</td></tr>")
    page.add("</table>")

    page.section("Metric definitions")
    page.add("<ul>" + "".join(f"<li>{html.escape(metric_caption(spec))}</li>" for spec in metric_specs()) + "</ul>")
    for note in resolution_notes(df):
        page.note(note)

    page.section("Summary")
    _summary_by_setting(df, page)
    page.note("The best value of each metric is bold within each training setting only.")
    for note in fidelity_notes(ok_rows(df)):
        page.note(note)

    for spec in metric_specs():
        for _name, resolution, setting, rows in table_groups(df, spec):
            table = metric_table(rows, spec.name)
            if table.empty:
                continue
            page.section(metric_title(spec, resolution) + (f", {setting}" if setting else ""))
            page.add(_table_html(table, minimize=not spec.higher_is_better))
            for n in [metric_caption(spec, resolution), *method_notes(rows, spec.name), *missing_notes(rows, table)]:
                page.note(n)

    ci = ci_table(df)
    if not ci.empty:
        page.section("Confidence intervals")
        for metric, title in CI_METRICS.items():
            t = ci_display(ci, metric)
            if not t.empty:
                page.add(f"<h3>{html.escape(title)}: value [95 % interval]</h3>")
                page.add(_table_html(t, bold_best=False))
        page.note(ci_caption(df))

    tables = [(title, per_defect_table(df, metric)) for metric, title in PER_DEFECT_METRICS.items()]
    if any(not t.empty for _, t in tables):
        page.section("Per defect type")
        for title, t in tables:
            if not t.empty:
                page.add(f"<h3>{html.escape(title)}</h3>")
                page.add(_table_html(t))
        page.note("Each defect type's test images against all normal test images of the category; best per row "
                  "in bold (a row can mix tracks only when the run did: the column names the setting).")

    ranked = [(spec, setting, critical_difference(blocks, spec.higher_is_better))
              for spec in metric_specs() if spec.name in ("image_auroc", "pixel_auroc")
              for setting, blocks in rank_blocks(df, spec).items()]
    if ranked:
        page.section("Rankings")
        for spec, setting, res in ranked:
            t = res.avg_ranks.sort_values().rename("average rank").to_frame()
            page.add(f"<h3>{html.escape(spec.title)}, {html.escape(setting)}</h3>")
            page.add(_table_html(t, bold_best=False, digits=2))
            page.note(f"Friedman χ² = {res.statistic:.3f}, p = {res.p_value:.3g} over {res.n_blocks} data set × "
                      f"category cells; Nemenyi critical difference at α = {res.alpha:g}: {res.cd:.3f} (ranks "
                      f"closer than this are not significantly different).")

    costs = cost_table(df)
    if not costs.empty:
        shown, notes = cost_display(costs)
        page.section("Costs")
        page.add(_table_html(shown.set_index(["method", "device"]), bold_best=False))
        page.note(costs_caption(df))
        for n in notes:
            page.note(n)

    pngs = [p for p in figures if p.suffix == ".png"]
    if pngs:
        page.section("Figures")
        for p in pngs:
            data = base64.b64encode(p.read_bytes()).decode()
            page.add(f"<figure><img alt='{p.stem}' src='data:image/png;base64,{data}'>"
                     f"<figcaption><b>{html.escape(p.stem)}</b> (<a href='figures/{p.stem}.pdf'>PDF</a>). "
                     f"{html.escape(figure_caption(p.stem))}</figcaption></figure>")

    fails = failures_table(df)
    page.section(f"Failures ({len(fails)})")
    if fails.empty:
        page.add("<p>none</p>")
    else:
        page.add("<table><tr>" + "".join(f"<th>{c}</th>" for c in fails.columns) + "</tr>")
        for _, r in fails.iterrows():
            page.add("<tr>" + "".join(f"<td class='{'err' if c == 'error' else ''}'>{html.escape(str(v))}</td>"
                                      for c, v in r.items()) + "</tr>")
        page.add("</table>")
    toc = "<nav><h2>Contents</h2><ol>" + "".join(f"<li><a href='#{a}'>{html.escape(t)}</a></li>"
                                                 for a, t in page.toc) + "</ol></nav>"
    doc = [f"<!doctype html><html><head><meta charset='utf-8'><title>adbench report</title>"
           f"<style>{CSS}</style></head><body><h1>adbench report</h1>", toc, *page.parts,
           f"<script>{SCRIPT}</script></body></html>"]
    path = out_dir / "index.html"
    path.write_text("\n".join(doc))
    return path
