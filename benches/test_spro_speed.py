"""AU-sPRO on continuous maps (the AUPIMO benchmark's maps: upsampled noise with raised blobs),
each anomalous image with two LOCO-style channels: its exact time, and how far the official
script's sampled thresholds (``curve_max_distance`` 0.01) lie from the exact value.

Run: ``pytest -m bench benches/test_spro_speed.py -s`` (docs/benchmarks.md). The official
computation is the oracle transcribed in ``tests/test_spro.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from adbench.data.loco import DefectConfig
from adbench.metrics.spro import LOCO_LIMITS, SproEvaluator
from test_aupimo import continuous_maps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_spro import _official_auc, _official_sampled  # noqa: E402

pytestmark = pytest.mark.bench

RELATIVE = DefectConfig("missing", 1, 0.5, True)
ABSOLUTE = DefectConfig("extra", 2, 200, False)


def test_au_spro_time_and_official_sampling_gap():
    maps, masks = continuous_maps(n=24, side=256)
    images = []
    for m, g in zip(maps.astype(np.float64), masks):
        if not g.any():
            images.append((m, []))
            continue
        rows = np.flatnonzero(g.any(axis=1))
        upper = g.copy()
        upper[rows[len(rows) // 2]:] = False  # two overlapping channels: the blob and its upper half
        images.append((m, [(g, RELATIVE), (upper, ABSOLUTE)]))
    start = time.perf_counter()
    ev = SproEvaluator()
    for m, ch in images:
        ev.update(m.astype(np.float32), ch)
    exact = {limit: ev.au_spro(limit) for limit in LOCO_LIMITS}
    seconds = time.perf_counter() - start
    sampled = _official_sampled(images)
    print(f"\nAU-sPRO, {len(images)} maps of 256² ({ev.n_channels} channels): exact in {seconds:.3f} s; "
          f"the official sampling used {len(sampled)} thresholds")
    for limit in LOCO_LIMITS:
        official = _official_auc(images, sampled, limit)
        print(f"limit {limit}: exact {exact[limit]:.6f}, official sampled {official:.6f}, "
              f"|Δ| = {abs(exact[limit] - official):.2e}")
