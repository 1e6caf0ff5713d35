"""Profiler overhead: ``adbench profile all --device cpu --profile smoke`` (target < 2 min on 2 cores)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import pytest

pytestmark = pytest.mark.bench


def test_profile_all_smoke_cpu(benchmark):
    def run():
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, ADBENCH_CACHE=cache)
            res = subprocess.run([sys.executable, "-m", "adbench", "profile", "all", "--profile", "smoke",
                                  "--device", "cpu", "--no-cache"], env=env, capture_output=True, text=True)
            assert res.returncode == 0, res.stderr
            return res

    start = time.perf_counter()
    res = benchmark.pedantic(run, rounds=1, iterations=1)
    wall = time.perf_counter() - start
    rows = [line.split("|")[2].strip() for line in res.stdout.splitlines() if line.startswith("|") and "cpu" in line]
    print(f"\n[profile] adbench profile all --profile smoke --device cpu: {wall:.1f} s for {len(set(rows))} methods, "
          f"{len(rows)} latency rows (target < 120 s)")
