"""Parallel local execution: N persistent worker processes, one cell at a time each.

A worker that exceeds ``cell_timeout`` or dies (killed, segfault, out of memory) is
replaced; its cell gets an error row, so the other cells' rows are all kept and a resumed
run retries it. With several GPUs each worker sees one of them through
``CUDA_VISIBLE_DEVICES``; CPU threads are divided between workers. Workers exit when the
parent process is gone, however it ended.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
import os
import queue
import sys
import threading
import time
import traceback
from typing import Any, Sequence

from tqdm import tqdm

from ..protocol.cells import Cell
from .base import Executor, ExecutorOption, RunSpec, failure_row, is_failure, run_one


def _exit_with_parent() -> None:
    """Stop this worker as soon as the parent is gone (killed, or stopped by SIGTERM), so no
    orphan keeps training and writing rows after the run it belonged to."""
    parent = mp.parent_process()
    if parent is None:
        return

    def watch() -> None:
        mp.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="adbench-parent-watch", daemon=True).start()


def _worker_main(tasks: Any, results: Any, env: dict[str, str], threads: int) -> None:
    os.environ.update(env)  # before torch initialises CUDA
    _exit_with_parent()
    from .. import interrupts

    interrupts.install()  # a plugin's own KeyboardInterrupt fails its cell; a real Ctrl-C stops the worker
    import torch

    torch.set_num_threads(max(1, threads))
    while True:
        try:
            item = tasks.get()
        except KeyboardInterrupt:  # a real Ctrl-C or SIGTERM while idle ends the worker quietly too
            return
        if item is None:
            return
        job_id, fn, args = item
        try:
            results.put((job_id, fn(*args), None))
        except KeyboardInterrupt:
            return
        except BaseException as exc:  # report, keep serving
            results.put((job_id, None, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def next_cell(pending: Sequence[tuple[int, Cell]], busy_methods: set[str]) -> int:
    """Index of the pending cell to hand out next: the first whose method no other worker
    is running, so that workers do not queue on one method's cost profile; else the first."""
    return next((i for i, (_, cell) in enumerate(pending) if cell.method not in busy_methods), 0)


def owner_of(pool: Sequence[Any], job_id: int | None) -> Any | None:
    """The worker running ``job_id``, or None. A result can arrive from a worker already
    stopped at its timeout (and replaced): that cell has its error row, so the late result
    has no owner and is dropped."""
    return next((w for w in pool if w.job and w.job[0] == job_id), None)


class _Worker:
    def __init__(self, ctx: Any, slot: int, env: dict[str, str], threads: int, results: Any):
        self.slot, self.tasks = slot, ctx.Queue()
        self.proc = ctx.Process(target=_worker_main, args=(self.tasks, results, env, threads), daemon=True)
        self.proc.start()
        self.job: tuple[int, Cell] | None = None
        self.started = 0.0

    def request_stop(self, kill: bool = False) -> None:
        if kill and self.proc.is_alive():
            self.proc.kill()
        elif self.proc.is_alive():
            self.tasks.put(None)

    def join(self) -> None:
        self.proc.join(timeout=10)
        if self.proc.is_alive():  # a worker stuck in its shutdown must not hold up the run
            self.proc.kill()
            self.proc.join()

    def stop(self, kill: bool = False) -> None:
        self.request_stop(kill)
        self.join()


class PoolExecutor(Executor):
    """The ``local`` executor's worker pool: ``--workers N`` (and ``--cell-timeout S``). An
    :class:`Executor` like any other (its options are checked the same way), which ``local``
    hands its cells to rather than one registered under its own name.

    ``gpus``: the devices to spread workers over; default: every visible GPU when the run's
    device is CUDA, none on CPU."""

    name = "pool"
    description = "worker processes on this machine (the local executor's --workers)"
    options = (ExecutorOption("workers", int, 2, "worker processes", minimum=1),
               ExecutorOption("cell_timeout", float, None, "seconds after which a worker's cell is stopped"))

    def __init__(self, gpus: Sequence[str] | None = None, **options: Any):
        super().__init__(**options)
        self.workers = self.config["workers"]
        self.cell_timeout = self.config["cell_timeout"]
        self.gpus = None if gpus is None else list(gpus)

    def run(self, cells: Sequence[Cell], spec: RunSpec) -> list[dict[str, Any]]:
        from dataclasses import replace

        from ..protocol.costs import measure_cells

        # latency is never timed while other cells train: every cost profile is measured
        # here, one at a time, before any worker starts; workers read them from the cache
        if self.gpus is None:
            import torch

            self.gpus = ([str(i) for i in range(torch.cuda.device_count())]
                         if spec.device.startswith("cuda") else [])
        spec = replace(spec, cost_threads=spec.cost_threads or _torch_threads())
        measure_cells(cells, spec.device, spec.cost_threads)
        ctx = mp.get_context("spawn")
        results = ctx.Queue()
        n = min(self.workers, max(1, len(cells)))
        threads = max(1, (os.cpu_count() or 1) // n)

        def env(slot: int) -> dict[str, str]:
            return {"CUDA_VISIBLE_DEVICES": self.gpus[slot % len(self.gpus)]} if self.gpus else {}

        pool = [_Worker(ctx, i, env(i), threads, results) for i in range(n)]
        pending = list(enumerate(cells))
        rows: list[dict[str, Any]] = []
        failed = 0
        bar = tqdm(total=len(cells), unit="cell", file=sys.stderr, dynamic_ncols=True)

        def finish(worker: _Worker, row: dict[str, Any]) -> None:
            nonlocal failed
            rows.append(row)
            worker.job = None
            if is_failure(row):
                failed += 1
                bar.write(f"  FAILED {row.get('method')}/{row.get('category')}: {str(row.get('error'))[:200]}")
            bar.update(1)

        try:
            while pending or any(w.job for w in pool):
                for w in pool:
                    if w.job is None and pending:
                        job_id, cell = pending.pop(next_cell(pending, {o.job[1].method for o in pool if o.job}))
                        w.job, w.started = (job_id, cell), time.monotonic()
                        w.tasks.put((job_id, run_one, (cell, spec)))
                try:
                    job_id, row, error = results.get(timeout=0.2)
                except queue.Empty:
                    job_id = None
                owner = owner_of(pool, job_id)
                if owner is not None:
                    finish(owner, row if row is not None else failure_row(owner.job[1], spec, error or "worker error"))
                for i, w in enumerate(pool):
                    if w.job is None:
                        continue
                    timed_out = self.cell_timeout is not None and time.monotonic() - w.started > self.cell_timeout
                    if timed_out or not w.proc.is_alive():
                        reason = (f"cell exceeded --cell-timeout {self.cell_timeout:g} s and was stopped; "
                                  f"lower its budget (--set epochs=N) or raise --cell-timeout"
                                  if timed_out else f"worker process died (exit code {w.proc.exitcode})")
                        cell = w.job[1]
                        w.stop(kill=True)
                        finish(w, failure_row(cell, spec, reason))
                        pool[i] = _Worker(ctx, w.slot, env(w.slot), threads, results)
                running = sum(1 for w in pool if w.job)
                bar.set_postfix(running=running, failed=failed, refresh=False)
                bar.refresh()
        finally:
            for w in pool:  # all at once: each worker's interpreter shutdown takes a while
                w.request_stop(kill=bool(w.job))
            for w in pool:
                w.join()
            bar.close()
        return rows
