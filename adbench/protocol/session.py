"""``run_benchmark``: the whole of ``adbench run`` as one plain-Python call (usable from a
notebook or a script). The CLI only parses arguments into a :class:`BenchmarkRequest` and
prints the :class:`RunSummary` (docs/architecture.md, "Flow").

>>> from adbench import run_benchmark
>>> summary = run_benchmark(methods=["convae"], profile="smoke", categories=["fabric"], out="reports/try")
>>> summary.table   # method × metric, mean over categories and seeds
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from .. import registry
from ..config import DatasetSpec, cache_dir, load_catalogue
from ..io import unwritable_folder
from ..metrics.spec import check_au_pro_limit, metrics_of_rows
from .cells import Cell, RunSpec


#: the executor of a request that names none: this machine
DEFAULT_EXECUTOR = "local"


@dataclass
class BenchmarkRequest:
    """What to run: the arguments of ``adbench run``, with the same defaults."""

    methods: Sequence[str] = ("all",)
    datasets: Sequence[str] = ("synthetic",)
    #: empty: every category of each data set
    categories: Sequence[str] = ()
    #: None: each method's own track; "all": every track a method supports
    track: str | None = None
    profile: str = "quick"
    seeds: Sequence[int] = (0,)
    k_anomalies: int = 5
    ratios: Sequence[float] = ()
    overrides: dict[str, Any] = field(default_factory=dict)
    #: "native": pixel metrics on each test image's own mask size; "input": at the method's input size
    eval_resolution: str = "native"
    #: keep every test image's map at native size (float16) under ``<out>/maps/``
    save_maps: bool = False
    #: hold this fraction of ``train/good`` out as normal validation images where a data set
    #: declares none (they set the threshold metrics' operating point); None: none held out
    validation_fraction: float | None = None
    #: AU-PRO to these FPR limits as well (beyond the registered 0.3 and 0.05)
    au_pro_limits: Sequence[float] = ()
    #: few-shot setting: train on this many normal images (a seeded draw); None: all of them
    train_shots: int | None = None
    #: noisy-training setting: this fraction of training is anomalous test images, unlabelled
    contamination: float | None = None
    #: the run folder; None: ``reports/<profile>``
    out: Path | str | None = None
    force: bool = False
    #: cpu, cuda, cuda:N or auto
    device: str = "auto"
    executor: str = DEFAULT_EXECUTOR
    executor_options: dict[str, Any] = field(default_factory=dict)
    #: ``[executor.<name>]`` tables, e.g. parsed from ``--executor-config``
    executor_config: dict[str, Any] = field(default_factory=dict)
    #: the cells' time guard in seconds; None: the profile's default
    cell_timeout: float | None = None
    #: (i, n): run only the i-th of n deterministic slices of the cells (1-based)
    shard: tuple[int, int] | None = None
    datasets_file: Path | str | None = None
    #: write the tables under ``<out>/tables`` after the run
    report: bool = True

    def __post_init__(self) -> None:
        """The request checks itself once, whoever built it (the CLI or the Python API)."""
        _check_device_name(self.device)
        if self.shard is not None:
            i, n = self.shard
            if not 1 <= i <= n:
                raise RequestError(f"shard {i}/{n}: expected I/N with 1 <= I <= N, e.g. 1/4", "shard")
        if self.cell_timeout is not None and not self.cell_timeout > 0:
            raise RequestError(f"cell timeout {self.cell_timeout!r}: must be a positive number of seconds",
                               "cell_timeout")
        if self.eval_resolution not in ("native", "input"):
            raise RequestError(f"eval resolution {self.eval_resolution!r}: use native or input", "eval_resolution")
        if self.train_shots is not None and self.train_shots < 1:
            raise RequestError(f"train shots {self.train_shots!r}: must be at least 1", "train_shots")
        if self.contamination is not None and not 0 < self.contamination < 1:
            raise RequestError(f"contamination {self.contamination!r}: must lie strictly between 0 and 1 (the "
                               f"fraction of the training set that is anomalous)", "contamination")
        for limit in self.au_pro_limits:
            try:
                check_au_pro_limit(limit)
            except ValueError as exc:
                raise RequestError(str(exc), "au_pro_limits") from None
        if self.validation_fraction is not None and not 0 < self.validation_fraction < 1:
            raise RequestError(f"validation fraction {self.validation_fraction!r}: must lie strictly between 0 "
                               f"and 1 (the rest of train/good still trains)", "validation_fraction")


@dataclass
class RunSummary:
    """What a run did: its cells, their rows, the summary table and what was written."""

    out: Path
    cells: list[Cell]
    #: every row of the run folder that belongs to this run's cells
    rows: pd.DataFrame
    #: method × metric, mean over categories then seeds (the console summary)
    table: pd.DataFrame
    #: the rows of cells that failed
    failed: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    already_done: int = 0
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.interrupted and self.failed.empty


class RequestError(ValueError):
    """A request that cannot run (unknown name, bad device, nothing selected); the message says
    why, and ``field`` names the :class:`BenchmarkRequest` field at fault, where there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class DeviceUnavailable(RequestError):
    """A well-formed device this machine does not have (CUDA without a GPU)."""


def _check_device_name(device: str) -> None:
    """A device adbench can name at all (whether this machine has it is :func:`resolve_device`'s)."""
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", device):
        raise RequestError(f"device {device!r}: use cpu, cuda, cuda:N or auto", "device")


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when available, else ``cpu``; a CUDA device on a machine without CUDA is an error."""
    import torch

    _check_device_name(device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceUnavailable(f"--device {device}: CUDA is not available on this machine; use --device cpu",
                                "device")
    return device


def build_executor(request: BenchmarkRequest, flags: dict[str, Any] | None = None) -> Any:
    """The selected executor, built from its config-file table, its flags and ``executor_options``."""
    cls = registry.executors().get(request.executor).obj
    return cls.from_sources(request.executor_config.get(request.executor, {}), flags, request.executor_options)


def catalogue_of(request: BenchmarkRequest) -> dict[str, DatasetSpec]:
    """The data set catalogue the request names (``datasets.toml`` by default)."""
    return load_catalogue(Path(request.datasets_file) if request.datasets_file else None)


def plan(request: BenchmarkRequest, catalogue: dict[str, DatasetSpec] | None = None) -> tuple[list[Cell], list[str]]:
    """The request's cells (after sharding) and notes on what was skipped."""
    from .plan import plan_cells

    catalogue = catalogue if catalogue is not None else catalogue_of(request)
    cells, notes = plan_cells(request.methods, catalogue, datasets=list(request.datasets),
                              categories=list(request.categories), track=request.track, profile=request.profile,
                              seeds=list(request.seeds), k_anomalies=request.k_anomalies,
                              ratios=list(request.ratios), overrides=dict(request.overrides),
                              eval_resolution=request.eval_resolution,
                              validation_fraction=request.validation_fraction,
                              au_pro_limits=list(request.au_pro_limits), train_shots=request.train_shots,
                              contamination=request.contamination)
    if not cells:
        raise RequestError("nothing to run: " + ("; ".join(notes) or "the selection matches no cell"))
    if request.shard is not None:
        i, n = request.shard
        cells = cells[i - 1 :: n]
    return cells, notes


def run_benchmark(request: BenchmarkRequest | None = None, *, log: Callable[[str], None] | None = None,
                  executor_flags: dict[str, Any] | None = None, **fields: Any) -> RunSummary:
    """Plan, run (skipping cells that already have a successful row), write the tables and
    summarise. Pass a :class:`BenchmarkRequest` or its fields as keywords. ``log`` receives
    progress lines (default: stderr). A Ctrl-C keeps the finished rows and returns a summary
    with ``interrupted=True``; the same request run again finishes the rest."""
    import sys

    from .. import interrupts
    from ..report.build import write_report
    from ..report.metric_views import summary_table
    from ..results.store import ResultStore, load_rows

    request = request or BenchmarkRequest(**fields)
    say = log or (lambda msg: print(msg, file=sys.stderr))
    out = Path(request.out) if request.out is not None else Path("reports") / request.profile
    why = unwritable_folder(out)
    if why:  # before any cell: a run whose rows cannot be written would lose every one of them
        raise RequestError(f"{why}; pass a folder you can write (it is created if missing)", "out")
    why = unwritable_folder(cache_dir())
    if why:  # the data set and tensor caches live there: every cell would fail on it
        raise RequestError(f"the cache folder (ADBENCH_CACHE, default ~/.cache/adbench): {why}; set ADBENCH_CACHE "
                           f"to a folder you can write")
    device = resolve_device(request.device)
    executor = build_executor(request, executor_flags)  # before planning, which may generate data
    catalogue = catalogue_of(request)
    cells, notes = plan(request, catalogue)
    for note in notes:
        say(note)
    store = ResultStore(out)
    todo = [c for c in cells if request.force or not store.is_done(c.key)]
    say(f"{len(cells)} cells, {len(cells) - len(todo)} already done, {len(todo)} to run → {out}/cells/")
    spec = RunSpec(out, device, catalogue, request.force, cell_timeout=request.cell_timeout,
                   save_maps=request.save_maps)
    interrupted = False
    interrupts.install()
    try:
        executor.run(todo, spec)
    except KeyboardInterrupt:
        interrupted = True
    rows = load_rows([out])
    written = write_report(rows, out / "tables") if request.report and not rows.empty and not interrupted else []
    mine = rows[rows["cell_key"].isin({c.key for c in cells})] if not rows.empty else rows
    failed = mine[mine["status"] != "ok"] if not mine.empty else mine
    with registry.extra_metrics(metrics_of_rows(mine)):
        table = summary_table(mine) if not mine.empty else pd.DataFrame()
    return RunSummary(out=out, cells=cells, rows=mine, table=table,
                      failed=failed, notes=notes, written=written, already_done=len(cells) - len(todo),
                      interrupted=interrupted)
