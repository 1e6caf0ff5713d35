"""`run all --profile smoke` with --workers 2 vs --workers 1 (issue target: ≥ 1.6× faster on 2 cores).

Run: ``pytest -m bench benches/test_workers_speed.py -s``. Prints both wall times and the cell
count for a first run (empty caches: data decoding and cost profiles included) and for a rerun
(warm caches), plus the ceiling that bounds the speed-up: ``--workers 1`` with one torch thread.
A single process already runs each torch op on both cores, so two one-thread workers can be at
most ``2 × t(1 process, 2 threads) / t(1 process, 1 thread)`` times faster on the cell work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from adbench.results.store import load_row

pytestmark = pytest.mark.bench


def _run(workers: int, cache: str, **env: str) -> tuple[float, int, float]:
    """Wall time, cell count and summed per-cell wall time of one `run all --profile smoke`."""
    with tempfile.TemporaryDirectory() as out:
        full_env = dict(os.environ, ADBENCH_CACHE=cache, **env)
        start = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "adbench", "run", "all", "--profile", "smoke", "--workers",
                              str(workers), "--out", out], env=full_env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        rows = [load_row(p) for p in Path(out, "cells").glob("*.json")]
        assert rows and all(r["status"] == "ok" for r in rows), res.stderr[-2000:]
        return wall, len(rows), sum(r["wall_s"] for r in rows)


def test_two_workers_vs_one(benchmark):
    with tempfile.TemporaryDirectory() as c1, tempfile.TemporaryDirectory() as c2:
        # each mode starts from its own empty cache (the synthetic set is generated first, untimed)
        for cache in (c1, c2):
            subprocess.run([sys.executable, "-m", "adbench", "data", "check", "synthetic"],
                           env=dict(os.environ, ADBENCH_CACHE=cache), capture_output=True, check=True)
            for sub in ("tensors", "costs"):
                assert not Path(cache, sub).exists()
        cold_one, cells, _ = _run(1, c1)
        cold_two, _, _ = _run(2, c2)
        warm_one, _, work_two_threads = _run(1, c1)
        warm_two, _, _ = benchmark.pedantic(_run, args=(2, c2), rounds=1, iterations=1)
        _, _, work_one_thread = _run(1, c2, OMP_NUM_THREADS="1")
    ceiling = 2 * work_two_threads / work_one_thread
    print(f"\n[workers] run all --profile smoke, {cells} cells, 2 cores:"
          f"\n  first run (empty caches): --workers 1 {cold_one:.1f} s, --workers 2 {cold_two:.1f} s, "
          f"speed-up {cold_one / cold_two:.2f}x"
          f"\n  rerun (warm caches):      --workers 1 {warm_one:.1f} s, --workers 2 {warm_two:.1f} s, "
          f"speed-up {warm_one / warm_two:.2f}x"
          f"\n  cell work in one process: {work_two_threads:.1f} s with 2 torch threads, "
          f"{work_one_thread:.1f} s with 1 → two workers can be at most {ceiling:.2f}x faster on it"
          f"\n  (issue #11 target: 1.6x)")
