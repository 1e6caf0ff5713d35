"""LaTeX tables that fit a paper's column or page by layout, never by shrinking the font.

A table is written as a plain booktabs ``tabular``. Its width is estimated from Computer
Modern's character widths at 10 pt; then, in this order, it goes in a ``table`` (one column,
≤ :data:`COLUMN_PT`), a ``table*`` (both columns, ≤ :data:`TEXT_PT`), a ``table*`` with
abbreviated column headings (category names) and their key in the caption, and finally a ``table*`` whose
columns are split into stacked panels that each fit. The limits are those of the narrower
common layout (``article`` with ``twocolumn``: 229.5 pt and 469 pt; IEEEtran's are wider),
which the compile test checks with "no overfull box" (docs/architecture.md, "Reports").
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: widths the layout must fit, in TeX points (``article``, twocolumn, 10 pt, letter paper)
COLUMN_PT = 229.0
TEXT_PT = 469.0
#: \tabcolsep on both sides of every column
COLUMN_PAD_PT = 12.0
#: what ``~\citep{key}`` adds to a method's cell with numeric citations ("[12]"; natbib's
#: ``numbers`` option, as IEEE and most venues of the field use; author-year would need more room)
CITE_PT = 19.5  # "~[99]" measured 18.9 pt

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "†": r"\textdagger{}", "‡": r"\textdaggerdbl{}",
                # the symbols of statistics captions, which pdflatex's default input encoding lacks
                "α": r"$\alpha$", "χ": r"$\chi$", "²": r"\textsuperscript{2}", "×": r"$\times$",
                "≤": r"$\leq$", "≥": r"$\geq$", "−": r"$-$", "Δ": r"$\Delta$"}

# Computer Modern 10 pt advance widths of the printable ASCII characters (space to "~"), in pt,
# measured with pdflatex (\settowidth of each character, roman and bold; rounded up).
_REGULAR = (3.34, 2.78, 5.01, 8.34, 5, 8.34, 7.78, 2.78, 3.89, 3.89, 5.01, 7.78, 2.78, 3.34, 2.78, 5.01, 5.01, 5.01,
            5.01, 5.01, 5.01, 5.01, 5.01, 5.01, 5.01, 5.01, 2.78, 2.78, 2.78, 7.78, 4.73, 4.73, 7.78, 7.51, 7.09,
            7.23, 7.64, 6.81, 6.53, 7.85, 7.51, 3.62, 5.14, 7.78, 6.26, 9.17, 7.51, 7.78, 6.81, 7.78, 7.37, 5.56,
            7.23, 7.51, 7.51, 10.28, 7.51, 7.51, 6.12, 2.78, 5.01, 2.78, 5.01, 3.6, 2.78, 5.01, 5.56, 4.45, 5.56,
            4.45, 3.06, 5.01, 5.56, 2.78, 3.06, 5.28, 2.78, 8.34, 5.56, 5.01, 5.56, 5.28, 3.92, 3.95, 3.89, 5.56,
            5.28, 7.23, 5.28, 5.28, 4.45, 5.01, 10.01, 5.01, 5.01)
_BOLD = (3.84, 3.5, 6.03, 9.59, 5.75, 9.59, 8.95, 3.2, 4.48, 4.48, 5.75, 8.95, 3.2, 3.84, 3.2, 5.75, 5.75, 5.75, 5.75,
         5.75, 5.75, 5.75, 5.75, 5.75, 5.75, 5.75, 3.2, 3.2, 3.5, 8.95, 5.44, 5.44, 8.95, 8.7, 8.19, 8.31, 8.82, 7.56,
         7.24, 9.05, 9, 4.37, 5.95, 9.02, 6.92, 10.92, 9, 8.64, 7.87, 8.64, 8.63, 6.39, 8, 8.85, 8.86, 12.05, 8.7,
         8.99, 7.03, 3.2, 5.75, 3.2, 5.75, 4.14, 3.2, 5.6, 6.39, 5.12, 6.39, 5.28, 4.61, 5.91, 6.39, 3.2, 3.52, 6.07,
         3.2, 9.59, 6.39, 5.75, 6.39, 6.07, 4.74, 4.54, 4.48, 6.39, 6.23, 8.47, 6.07, 6.23, 5.12, 5.75, 11.82, 5.75,
         5.75)
#: the non-ASCII characters a table prints (measured the same way): (roman, bold)
_OTHER = {"±": (7.78, 7.78), "†": (4.45, 5.11), "‡": (4.45, 5.11), "–": (5.01, 5.75), "—": (10.01, 11.5),
          "×": (7.78, 7.78), "≤": (7.78, 7.78), "≥": (7.78, 7.78), "−": (7.78, 7.78), "Δ": (8.33, 9.58)}
#: an unknown character counts as the widest letter, so an estimate never falls short
_UNKNOWN_PT = 10.3
#: measured widths plus this share: kerning and the odd ligature never push a table over
_MARGIN = 1.02


def latex_text(text: str) -> str:
    """Plain text made safe inside LaTeX (names and definitions in captions)."""
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)


def text_width_pt(text: str, bold: bool = False) -> float:
    """Width of plain (unescaped) text in a 10 pt Computer Modern table cell, from measured widths."""
    table = _BOLD if bold else _REGULAR
    width = 0.0
    for ch in text:
        code = ord(ch) - 32
        width += table[code] if 0 <= code < len(table) else _OTHER.get(ch, (_UNKNOWN_PT,) * 2)[int(bold)]
    return width * _MARGIN


@dataclass
class LatexTable:
    """A table as plain text cells: ``header`` names the columns (the first is the row label),
    ``rows`` hold the cells, ``bold`` marks cells (same shape as ``rows``)."""

    header: list[str]
    rows: list[list[str]]
    bold: list[list[bool]] = field(default_factory=list)
    caption: str = ""  # LaTeX (already escaped)
    label: str = ""
    key_title: str = "Columns"  # how the caption introduces abbreviated headings
    abbreviate: bool = False  # may column headings (category names) be cut to unique prefixes?
    #: label cell text → BibTeX key: such a cell is followed by ``~\citep{key}`` (methods' papers)
    cites: dict[str, str] = field(default_factory=dict)

    def width_pt(self, header: list[str] | None = None) -> float:
        return sum(self._column_widths(header or self.header))

    def _column_widths(self, header: list[str], columns: list[int] | None = None) -> list[float]:
        cols = columns if columns is not None else list(range(len(header)))
        widths = []
        for c in cols:
            w = text_width_pt(header[c]) + (CITE_PT if header[c] in self.cites else 0.0)
            for r, row in enumerate(self.rows):
                w = max(w, text_width_pt(row[c], bold=bool(self.bold and self.bold[r][c]))
                        + (CITE_PT if c == 0 and row[c] in self.cites else 0.0))
            widths.append(w + COLUMN_PAD_PT)
        return widths


def abbreviations(names: list[str], min_len: int = 3) -> dict[str, str]:
    """The shortest unique prefixes (at least ``min_len`` characters) of ``names``; names of at
    most ``min_len + 1`` characters stay whole (``metal_nut`` → ``met``, ``mean`` stays)."""
    distinct = list(dict.fromkeys(names))
    for length in range(min_len, max((len(n) for n in distinct), default=min_len) + 1):
        short = {n: n if len(n) <= min_len + 1 else n[:length] for n in distinct}
        if len(set(short.values())) == len(distinct):
            return short
    return {n: n for n in distinct}


def _tabular(table: LatexTable, header: list[str], columns: list[int]) -> str:
    spec = "l" + "r" * (len(columns) - 1)
    lines = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
             " & ".join(_cell(header[c], False, table.cites.get(header[c])) for c in columns) + r" \\", "\\midrule"]
    for r, row in enumerate(table.rows):
        lines.append(" & ".join(_cell(row[c], bool(table.bold and table.bold[r][c]),
                                      table.cites.get(row[c]) if c == 0 else None) for c in columns) + r" \\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines)


def _cell(text: str, bold: bool, cite: str | None = None) -> str:
    body = latex_text(text).replace(" ± ", r" $\pm$ ").replace("±", r"$\pm$")
    body = f"\\textbf{{{body}}}" if bold else body
    return body + (f"~\\citep{{{cite}}}" if cite else "")


def render(table: LatexTable) -> str:
    """The whole float, laid out to fit (module docstring)."""
    header, key = table.header, ""
    width = table.width_pt(header)
    env = "table" if width <= COLUMN_PT else "table*"
    if width > TEXT_PT and table.abbreviate:
        short = abbreviations(header[1:])
        if any(s != n for n, s in short.items()):
            header = [header[0]] + [short[h] for h in header[1:]]
            key = f" {table.key_title}: " + ", ".join(
                f"{latex_text(s)} = {latex_text(n)}" for n, s in short.items() if s != n) + "."
            width = table.width_pt(header)
    panels = _panels(table, header) if width > TEXT_PT else [list(range(len(header)))]
    body = "\n\\par\\medskip\n".join(_tabular(table, header, cols) for cols in panels)
    label = f"\n\\label{{{table.label}}}" if table.label else ""
    return (f"\\begin{{{env}}}\n\\centering\n\\caption{{{table.caption}{key}}}{label}\n{body}\n"
            f"\\end{{{env}}}\n")


def _panels(table: LatexTable, header: list[str]) -> list[list[int]]:
    """Column groups (each with the label column) that each fit :data:`TEXT_PT`."""
    widths = table._column_widths(header)
    panels, current, used = [], [0], widths[0]
    for c in range(1, len(header)):
        if used + widths[c] > TEXT_PT and len(current) > 1:
            panels.append(current)
            current, used = [0], widths[0]
        current.append(c)
        used += widths[c]
    panels.append(current)
    return panels
