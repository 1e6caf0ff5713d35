"""The value every report view returns: one :class:`Table` (numbers, shown text, bold cells,
caption and notes), which one writer per format turns into CSV, Markdown, LaTeX or HTML
(``report/writers.py``). A view never formats for a file type itself."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

#: digits every format shows for a metric value
DIGITS = 3


@dataclass
class Table:
    """One table of the report.

    ``data`` holds the numbers (what the CSV gets); ``text`` the cells as shown (same index,
    the shown columns), and ``bold`` which of them are bold (same shape, or None). ``caption``
    says what the reader needs in at most ``rows.CAPTION_WORDS`` words (metric, setting, n, what ±
    and bold mean); ``notes`` are everything else (listed in Markdown and HTML and collected in the
    report's ``notes.md``). A LaTeX float gets the caption alone (``latex_caption`` where given),
    so a paper can keep it as it is. ``section`` groups tables under one HTML heading. ``methods_on`` says which axis holds the methods ("columns" or "index"): LaTeX puts
    methods in rows unless the report is transposed. ``formats`` limits the files written
    (None: every requested format)."""

    name: str
    title: str
    data: pd.DataFrame
    text: pd.DataFrame
    bold: pd.DataFrame | None = None
    caption: str = ""
    notes: list[str] = field(default_factory=list)
    section: str = ""
    methods_on: str | None = None
    csv_index: bool = True
    csv_float: str | None = "%.6f"  # None: full precision
    latex_columns: dict[str, str] = field(default_factory=dict)
    latex_key_title: str = "Categories"
    numbered_notes: bool = False
    latex_caption: str | None = None
    formats: tuple[str, ...] | None = None

    @property
    def heading(self) -> str:
        """The HTML section the table goes under: its ``section``, or its own title."""
        return self.section or self.title

    def __post_init__(self) -> None:
        if self.bold is not None and self.bold.shape != self.text.shape:
            raise ValueError(f"table {self.name}: bold {self.bold.shape} and text {self.text.shape} differ in shape")


def mean_std(mean: float, std: float | None, digits: int = DIGITS) -> str:
    """"mean ± std", or "mean" when there is no spread to show, or "–" for no value: fixed
    digits with trailing zeros kept, as every format shows a value."""
    if pd.isna(mean):
        return "–"
    return f"{mean:.{digits}f}" + ("" if std is None or pd.isna(std) else f" ± {std:.{digits}f}")


def with_spread(mean: pd.DataFrame, std: pd.DataFrame, n: pd.DataFrame, digits: int = DIGITS) -> pd.DataFrame:
    """Cells as "mean ± std" where more than one seed was run, else "mean"; "–" for none."""
    return pd.DataFrame({c: [mean_std(m, s if k > 1 else None, digits) for m, s, k in zip(mean[c], std[c], n[c])]
                         for c in mean.columns}, index=mean.index)


def formatted(table: pd.DataFrame, digits: int = DIGITS) -> pd.DataFrame:
    """Every cell of a numeric table as :func:`mean_std` shows a value without spread."""
    return pd.DataFrame({c: [mean_std(v, None, digits) for v in table[c]] for c in table.columns}, index=table.index)


def best_cells(values: pd.DataFrame, higher_is_better: bool = True, axis: int = 1,
               digits: int = DIGITS) -> pd.DataFrame:
    """Which cells hold the best value of their row (``axis=1``) or column (``axis=0``) at the
    shown precision: every tie is bold, none is missed by a difference the reader cannot see."""
    numbers = values.apply(pd.to_numeric, errors="coerce").round(digits)
    best = numbers.max(axis=axis) if higher_is_better else numbers.min(axis=axis)
    return numbers.eq(best, axis=1 - axis) & numbers.notna()
