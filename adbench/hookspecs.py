"""Hook specifications: every extension point a plugin can implement.

Each registration hook receives a ``register`` callback (the pattern of simonw/llm) so a
plugin can register any number of things without building a list itself. Register classes
or factories, never built objects: ``adbench list`` must stay cheap.
"""

from __future__ import annotations

from typing import Any, Callable

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("adbench")
hookimpl = HookimplMarker("adbench")


@hookspec
def adbench_register_methods(register: Callable[..., None]) -> None:
    """Register anomaly-detection methods: ``register(MethodClass)``.

    The class must subclass :class:`adbench.Method` and set ``name``.
    """


@hookspec
def adbench_register_datasets(register: Callable[..., None]) -> None:
    """Register data set adapters: ``register(name, AdapterClass)``.

    ``datasets.toml`` entries select an adapter by this name (``adapter = "mvtec_ad"``).
    """


@hookspec
def adbench_register_metrics(register: Callable[..., None]) -> None:
    """Register metrics: ``register(MetricSpec(name, title, level, higher_is_better, fn, definition))``.

    ``fn(scores, labels)`` for ``level="image"``, ``fn(maps, masks)`` for ``level="pixel"``;
    both return a float. A registered metric is computed for every cell, stored in the row's
    ``metrics`` block, and becomes a column of every table, the run summary and the HTML, with
    its ``definition`` in the captions. (The older ``register(name, fn, level=...)`` still works.)
    """


@hookspec
def adbench_register_executors(register: Callable[..., None]) -> None:
    """Register executors that schedule cells: ``register(name, ExecutorClass)``."""


@hookspec
def adbench_register_reporters(register: Callable[..., None]) -> None:
    """Register report writers: ``register(name, fn)`` with ``fn(rows_df, out_dir, formats) -> list[Path]``."""


@hookspec
def adbench_register_views(register: Callable[..., None]) -> None:
    """Register report views: ``register(name, fn)`` with ``fn(rows_df) -> list[Table]``
    (:class:`adbench.report.table.Table`: numbers, shown text, bold cells, caption, notes).
    Every table a view returns is written as CSV, Markdown and LaTeX and shown in the HTML by
    the report's one writer per format; ``rows_df`` holds every row, failed ones included.
    """


@hookspec
def adbench_register_figures(register: Callable[..., None]) -> None:
    """Register report figures: ``register(name, fn, caption="…", per_setting=False)`` with
    ``fn(ok_rows_df, style, out_dir) -> list[Path]``; the files' names start with ``name``
    (``name`` or ``name_<part>``), and ``caption`` (at most 40 words) goes under each in the
    HTML and the gallery. ``style`` (:class:`adbench.report.figures.Style`) gives every method
    its colour, marker and line style. With ``per_setting=True`` the function is called once per
    training setting with that setting's rows, and its file names end in ``style.suffix``.
    """


@hookspec
def adbench_cell_finished(row: dict[str, Any]) -> None:
    """Called after each cell's row is written, with the row (successful or failed)."""
