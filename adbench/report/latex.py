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

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "†": r"\textdagger{}", "‡": r"\textdaggerdbl{}",
                # the symbols of statistics captions, which pdflatex's default input encoding lacks
                "α": r"$\alpha$", "χ": r"$\chi$", "²": r"\textsuperscript{2}", "×": r"$\times$",
                "≤": r"$\leq$", "≥": r"$\geq$", "−": r"$-$"}

# Computer Modern Roman 10 pt advance widths (pt), rounded up; bold is about 10 % wider.
_WIDE = {**dict.fromkeys("mwMW", 9.2), **dict.fromkeys("ABCDEFGHKNOPQRSTUVXYZ", 7.8),
         **dict.fromkeys("IJL", 6.3), **dict.fromkeys("ilj.,:;'|!", 2.8), **dict.fromkeys("ft()[]/", 3.9),
         " ": 3.4, "±": 7.8, "_": 5.0, "@": 7.8, "%": 8.4, "–": 5.0, "—": 10.0}


def latex_text(text: str) -> str:
    """Plain text made safe inside LaTeX (names and definitions in captions)."""
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)


def text_width_pt(text: str, bold: bool = False) -> float:
    """Estimated width of plain (unescaped) text in a 10 pt Computer Modern table cell."""
    width = sum(_WIDE.get(ch, 5.0) for ch in text)
    return width * (1.1 if bold else 1.0)


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

    def width_pt(self, header: list[str] | None = None) -> float:
        return sum(self._column_widths(header or self.header))

    def _column_widths(self, header: list[str], columns: list[int] | None = None) -> list[float]:
        cols = columns if columns is not None else list(range(len(header)))
        widths = []
        for c in cols:
            w = text_width_pt(header[c])
            for r, row in enumerate(self.rows):
                w = max(w, text_width_pt(row[c], bold=bool(self.bold and self.bold[r][c])))
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
             " & ".join(_cell(header[c], False) for c in columns) + r" \\", "\\midrule"]
    for r, row in enumerate(table.rows):
        lines.append(" & ".join(_cell(row[c], bool(table.bold and table.bold[r][c])) for c in columns) + r" \\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines)


def _cell(text: str, bold: bool) -> str:
    body = latex_text(text).replace(" ± ", r" $\pm$ ").replace("±", r"$\pm$")
    return f"\\textbf{{{body}}}" if bold else body


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
