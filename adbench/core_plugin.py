"""The core's own plugin: built-in data set adapters, metrics, executors and reporters.

It registers through the same hooks as every other plugin; methods all live in plugins/.
"""

from __future__ import annotations

from typing import Callable

from .hookspecs import hookimpl


@hookimpl
def adbench_register_datasets(register: Callable[..., None]) -> None:
    from .data.adapters import BTAD, Folder, MVTecAD, Synthetic, TextureSource, VisA

    for adapter in (Synthetic, MVTecAD, BTAD, VisA, Folder, TextureSource):
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
    from .report.build import write_figures_and_html
    from .report.tables import write_metric_tables

    register("tables", write_metric_tables)
    register("figures_html", write_figures_and_html)
