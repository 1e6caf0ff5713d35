"""Realistic runs at the `quick` profile on the synthetic data set (minutes each).

Run with ``pytest -m slow``. Each method must score clearly above chance, at the
thresholds its issue sets, averaged over the four synthetic categories.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from adbench.results.store import load_row

pytestmark = pytest.mark.slow

# method: (track, {metric: minimum mean})
THRESHOLDS = {
    "convae": ("unsupervised", {"image_auroc": 0.8}),
    "vtadl": ("unsupervised", {"image_auroc": 0.8, "pixel_auroc": 0.85}),
    "pyramidal_ae": ("unsupervised", {"image_auroc": 0.75}),
    "piade": ("unsupervised", {"image_auroc": 0.75}),
    "capsnet": ("supervised", {"image_auroc": 0.8}),
    "capsnet2021": ("supervised", {"image_auroc": 0.8}),
    "unet": ("unsupervised", {"image_auroc": 0.7, "pixel_auroc": 0.85}),
    "unetpp": ("unsupervised", {"image_auroc": 0.7, "pixel_auroc": 0.85}),
    "unet_ronneberger": ("unsupervised", {"image_auroc": 0.8, "pixel_auroc": 0.85}),
    "unet2": ("unsupervised", {"image_auroc": 0.8, "pixel_auroc": 0.85}),
    "fcn32s": ("unsupervised", {"image_auroc": 0.8, "pixel_auroc": 0.6}),
    "segnet": ("unsupervised", {"image_auroc": 0.7, "pixel_auroc": 0.85}),
}


@pytest.mark.parametrize("method", sorted(THRESHOLDS))
def test_quick_profile_scores_above_chance(method: str, tmp_path: Path):
    track, minimum = THRESHOLDS[method]
    out = tmp_path / "run"
    res = run_cli(["run", method, "--profile", "quick", "--track", track, "--out", str(out)], timeout=1200)
    rows = [load_row(p) for p in (out / "cells").glob("*.json")]
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows), res.stderr[-2000:]
    for metric, low in minimum.items():
        mean = sum(r[metric] for r in rows) / len(rows)
        print(f"{method} {metric} mean {mean:.3f} (minimum {low})")
        assert mean > low, f"{method}: mean {metric} {mean:.3f} <= {low}"
    # the whole budget is trained, whatever the machine's speed (run-all timing: docs/benchmarks.md)
    assert all(r["fit_epochs"] == r["config"]["epochs"] for r in rows)
