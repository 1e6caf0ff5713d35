"""A self-contained ``index.html``: the report views' tables, figures (embedded PNG),
provenance and failures.

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

from .. import registry
from ..io import write_text_atomic
from .figures import figure_caption
from .rows import metric_caption, resolution_notes
from .table import Table
from .writers import to_html

PROVENANCE = ["adbench_version", "torch_version", "torch_build", "python_version", "git_sha", "host", "device",
              "cpu_model", "gpu_name", "torch_threads", "profile", "seed", "track"]

CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}th,td{border-bottom:1px solid #ddd;
padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}figure img{max-width:520px}
figcaption{font-size:12px;color:#555}
table.failures td{text-align:left}table.failures td:last-child{color:#a00;font-family:monospace;font-size:12px}
.note{font-size:12px;color:#555}nav ol{columns:2;font-size:14px}h2{border-top:1px solid #ccc;padding-top:.4em}"""

SCRIPT = """window.addEventListener('load',()=>{const imgs=[...document.images];
document.body.dataset.imagesTotal=imgs.length;
document.body.dataset.imagesOk=imgs.filter(i=>i.complete&&i.naturalWidth>0).length;});"""


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


def write_html(df: pd.DataFrame, tables: list[Table], figures: list[Path], out_dir: Path) -> Path:
    """``index.html``: provenance, metric definitions, then every view's tables under their
    sections (rendered by the one HTML table writer), captioned figures (each linked to its
    PDF), with a table of contents. Nothing here computes a table of its own."""
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
    page.add("<ul>" + "".join(f"<li>{html.escape(metric_caption(spec))}</li>" for spec in registry.metrics())
             + "</ul>")
    for note in resolution_notes(df):
        page.note(note)

    shown = [t for t in tables if t.formats is None or "html" in t.formats]
    for section in dict.fromkeys(t.heading for t in shown if t.heading != "Failures"):  # failures go last
        page.section(section)
        for t in shown:
            if t.heading == section:
                page.add(to_html(t))

    pngs = [p for p in figures if p.suffix == ".png"]
    if pngs:
        page.section("Figures")
        for p in pngs:
            data = base64.b64encode(p.read_bytes()).decode()
            page.add(f"<figure><img alt='{p.stem}' src='data:image/png;base64,{data}'>"
                     f"<figcaption><b>{html.escape(p.stem)}</b> (<a href='figures/{p.stem}.pdf'>PDF</a>). "
                     f"{html.escape(figure_caption(p.stem))}</figcaption></figure>")

    fails = [t for t in shown if t.section == "Failures"]
    page.section(f"Failures ({sum(len(t.data) for t in fails)})")
    for t in fails:
        page.add(to_html(t))
    if not fails:
        page.add("<p>none</p>")
    toc = "<nav><h2>Contents</h2><ol>" + "".join(f"<li><a href='#{a}'>{html.escape(t)}</a></li>"
                                                 for a, t in page.toc) + "</ol></nav>"
    doc = [f"<!doctype html><html><head><meta charset='utf-8'><title>adbench report</title>"
           f"<style>{CSS}</style></head><body><h1>adbench report</h1>", toc, *page.parts,
           f"<script>{SCRIPT}</script></body></html>"]
    return write_text_atomic(out_dir / "index.html", "\n".join(doc))
