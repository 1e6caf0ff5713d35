"""Latency of one network, quiet and beside a CPU-burning process: why adbench never times a
model while other cells train, and what ``latency_noisy`` catches.

capsnet and capsnet2021 are the same network; quiet, their latencies must agree within their
IQRs. Beside two busy processes (one per core), two OpenMP threads wait on each other and the
median moves far more than the IQR of a quiet run; the noisy flag must then be set or the
median must stay put.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from adbench import registry
from adbench.costs.measure import measure_method

pytestmark = pytest.mark.bench


def _latency(name: str) -> dict:
    cls = registry.methods().get(name).obj
    return measure_method(cls, cls.config_for("quick"), use_cache=False, batches=(1, 8))


def test_capsnet_latency_quiet_and_under_load(benchmark):
    def measure() -> dict:
        quiet = {n: _latency(n) for n in ("capsnet", "capsnet2021")}
        burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
        try:
            busy = _latency("capsnet")
        finally:
            for b in burners:
                b.kill()
                b.wait()
        return {"quiet": quiet, "busy": busy}

    res = benchmark.pedantic(measure, rounds=1, iterations=1)
    print()
    for label, r in [*(("quiet " + n, r) for n, r in res["quiet"].items()), ("busy capsnet", res["busy"])]:
        for row in r["latency"]:
            print(f"[latency] {label:20s} batch {row['batch']}: {row['latency_ms']:8.2f} ms median, "
                  f"IQR {row['latency_iqr_ms']:7.2f} ms, n={row['latency_reps']}, noisy={row['latency_noisy']}")
    a, b = (res["quiet"][n]["summary"] for n in ("capsnet", "capsnet2021"))
    assert abs(a["latency_ms"] - b["latency_ms"]) <= a["latency_iqr_ms"] + b["latency_iqr_ms"]
    busy = res["busy"]["summary"]
    moved = abs(busy["latency_ms"] - a["latency_ms"]) > a["latency_iqr_ms"] + busy["latency_iqr_ms"]
    assert busy["latency_noisy"] or not moved, "a load-distorted latency must be flagged"
