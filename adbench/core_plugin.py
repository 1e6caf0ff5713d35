"""The core's own plugin: built-in data set adapters, metrics, executors and reporters.

It registers through the same hooks as every other plugin; methods all live in plugins/.
"""

from __future__ import annotations

from typing import Callable

from .hookspecs import hookimpl


@hookimpl
def adbench_register_datasets(register: Callable[..., None]) -> None:
    from .data.adapters import (BTAD, KSDD2, MPDD, Folder, MVTecAD, MVTecAD2, MVTecLOCO, Synthetic, TextureSource,
                                VisA)

    for adapter in (Synthetic, MVTecAD, MVTecAD2, MVTecLOCO, MPDD, KSDD2, BTAD, VisA, Folder, TextureSource):
        register(adapter.name, adapter)


@hookimpl
def adbench_register_metrics(register: Callable[..., None]) -> None:
    from .metrics.spec import builtin_metrics

    for spec in builtin_metrics():  # exactly as a plugin registers its own MetricSpec
        register(spec)


@hookimpl
def adbench_register_executors(register: Callable[..., None]) -> None:
    from .executors.local import LocalExecutor
    from .executors.slurm import SubmititExecutor

    for executor in (LocalExecutor, SubmititExecutor):  # exactly as a plugin registers its own
        register(executor.name, executor)


@hookimpl
def adbench_register_reporters(register: Callable[..., None]) -> None:
    from .report.build import write_figures_and_html, write_view_tables

    register("tables", write_view_tables)
    register("figures_html", write_figures_and_html)


@hookimpl
def adbench_register_views(register: Callable[..., None]) -> None:
    from .report.cost_views import cost_tables
    from .report.detail_views import ci_tables, per_defect_tables
    from .report.metric_views import (failure_tables, main_tables, metric_tables, seeds_tables, summary_tables,
                                      unreported_tables)
    from .report.paired_views import paired_tables
    from .report.published_views import published_tables
    from .report.rank_views import rank_tables

    for name, fn in (("main", main_tables), ("summary", summary_tables), ("metrics", metric_tables), ("seeds", seeds_tables),
                     ("per_defect", per_defect_tables), ("ci", ci_tables), ("ranks", rank_tables),
                     ("paired", paired_tables), ("published", published_tables),
                     ("costs", cost_tables), ("failures", failure_tables), ("unreported", unreported_tables)):
        register(name, fn)  # exactly as a plugin registers its own view


@hookimpl
def adbench_register_figures(register: Callable[..., None]) -> None:
    from .report.figures import BUILTIN_FIGURES

    for name, fn, caption, per_setting in BUILTIN_FIGURES:
        register(name, fn, caption=caption, per_setting=per_setting)
