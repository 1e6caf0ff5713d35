"""One writer per format for :class:`~adbench.report.table.Table` values: CSV, Markdown, LaTeX
and HTML. Views decide what a table holds and which cells are bold; these functions only lay
it out, so every format shows the same digits and the same bold cells."""

from __future__ import annotations

import html
import io
from pathlib import Path

import pandas as pd

from ..io import write_text_atomic
from .latex import LatexTable, latex_text, render
from .table import Table

#: the file formats a table can be written in, and their suffixes
TABLE_FORMATS = {"csv": ".csv", "md": ".md", "tex": ".tex"}


def to_csv(table: Table) -> str:
    buf = io.StringIO()
    table.data.to_csv(buf, index=table.csv_index, float_format=table.csv_float)
    return buf.getvalue()


def _cells(table: Table, mark: tuple[str, str]) -> pd.DataFrame:
    """The shown text with bold cells wrapped in ``mark``."""
    text = table.text.astype(str)
    if table.bold is None:
        return text
    bold = table.bold.reindex(index=text.index, columns=text.columns, fill_value=False).astype(bool)
    return text.where(~bold, mark[0] + text + mark[1])


def _has_row_labels(table: Table) -> bool:
    """Whether the rows are labelled (categories, methods), rather than just numbered."""
    return table.csv_index or table.text.index.name is not None


def to_markdown(table: Table) -> str:
    """``## title``, the table (row labels first, numbers right-aligned), the caption, the notes."""
    cells = _cells(table, ("**", "**"))
    index = _has_row_labels(table)
    md = cells.to_markdown(index=index, disable_numparse=True,
                           colalign=(["left"] if index else []) + ["right"] * cells.shape[1])
    notes = "".join((f"{i + 1}. " if table.numbered_notes else "- ") + f"{n}\n" for i, n in enumerate(table.notes))
    return f"## {table.title}\n\n{md}\n\n" + (f"{table.caption}\n\n" if table.caption else "") + notes


def _label(name: str) -> str:
    return "tab:" + "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in name)


def _without_common_prefix(labels: list[str]) -> list[str]:
    """``synthetic/fabric`` → ``fabric`` when every label starts with the same ``dataset/``
    (the caption names the data set; a paper column has no room to repeat it)."""
    heads = {str(x).split("/", 1)[0] for x in labels if "/" in str(x)}
    if len(heads) != 1 or not all("/" in str(x) for x in labels):
        return [str(x) for x in labels]
    return [str(x).split("/", 1)[1] for x in labels]


def to_latex(table: Table, transpose: bool = False, citations: dict[str, str] | None = None) -> str:
    """A booktabs float laid out to fit a column or the page (report/latex.py). Methods go in
    rows unless ``transpose`` (then as in the Markdown); a method label in ``citations`` is
    followed by ``~\\citep{key}`` (its paper, from the rows' ``method_bibtex``)."""
    text, bold = table.text.astype(str), table.bold
    if bold is None:
        bold = pd.DataFrame(False, index=text.index, columns=text.columns)
    methods_as_rows = table.methods_on == "columns" and not transpose  # the table's columns become rows
    if methods_as_rows:
        text, bold = text.T, bold.T
        corner = "method"
    else:
        corner = str(text.index.name or "")
    header = [corner] + _without_common_prefix([table.latex_columns.get(str(c), str(c)) for c in text.columns])
    rows = [[i] + list(r) for i, r in zip(_without_common_prefix(list(text.index)), text.itertuples(index=False))]
    flags = [[False] + [bool(v) for v in r] for r in bold.itertuples(index=False)]
    caption = table.caption if table.latex_caption is None else table.latex_caption
    return render(LatexTable(header, rows, flags, caption=latex_text(caption), label=_label(table.name),
                             key_title=table.latex_key_title, abbreviate=methods_as_rows,
                             cites=dict(citations or {}) if table.methods_on else {}))


def to_html(table: Table) -> str:
    """The table as HTML (bold cells in ``<b>``), its caption and notes below it."""
    cells = _cells(table, ("\ue000", "\ue001"))  # private-use marks, which escaping keeps
    body = cells.to_html(escape=True, index=_has_row_labels(table), na_rep="–", border=0, classes=table.name)
    body = body.replace("\ue000", "<b>").replace("\ue001", "</b>")
    parts = [f"<h3 id='{html.escape(table.name)}'>{html.escape(table.title)}</h3>", body]
    parts += [f"<p class='note'>{html.escape(n)}</p>" for n in [table.caption, *table.notes] if n]
    return "\n".join(parts)


def to_notes(tables: list[Table]) -> str:
    """``notes.md``: every table's caption and notes under its file name, the part of the
    report that a paper's captions leave out (definitions, footnotes, why a value is missing)."""
    parts = ["# Notes to the report's tables\n\nWhat each table's caption leaves out: the metrics' definitions, "
             "the footnotes of its marks, and why a cell is empty.\n"]
    for table in tables:
        if table.notes:
            parts.append(f"## {table.title} (`{table.name}`)\n\n{table.caption}\n\n"
                         + "".join(f"- {n}\n" for n in table.notes))
    return "\n".join(parts)


def write_tables(tables: list[Table], out_dir: Path, formats: tuple[str, ...], transpose: bool = False,
                 citations: dict[str, str] | None = None) -> list[Path]:
    """Each table in each requested format it allows (``Table.formats``), atomically, and with
    Markdown or LaTeX, ``notes.md``."""
    written: list[Path] = []
    render_as = {"csv": to_csv, "md": to_markdown, "tex": lambda t: to_latex(t, transpose, citations)}
    for table in tables:
        for fmt, suffix in TABLE_FORMATS.items():
            if fmt not in formats or (table.formats is not None and fmt not in table.formats):
                continue
            written.append(write_text_atomic(out_dir / f"{table.name}{suffix}", render_as[fmt](table)))
    if {"md", "tex"} & set(formats) and any(t.notes for t in tables):
        written.append(write_text_atomic(out_dir / "notes.md", to_notes(tables)))
    return written
