"""AUPIMO on continuous maps like those networks emit (Gaussian-smoothed noise, bilinearly
upsampled, defects as raised smooth blobs): its time on an MVTec-category-sized test set, and
how far the official 300,000-threshold grid lies from finer grids (3 M and 30 M thresholds, the
limit the official value approximates).

Run: ``pytest -m bench benches/test_aupimo.py -s``. Prints seconds per evaluation, and per
image the largest and the mean absolute difference between the grids (docs/benchmarks.md).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from adbench.metrics.pimo import aupimo_per_image

pytestmark = pytest.mark.bench


def continuous_maps(n: int = 120, side: int = 256, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` test images of ``side``², the second half anomalous: maps made at 1/8 size and
    upsampled bilinearly (millions of distinct float32 values), each defect a raised blob."""
    gen = torch.Generator().manual_seed(seed)
    low = torch.randn(n, 1, side // 8, side // 8, generator=gen)
    maps = F.interpolate(low, size=(side, side), mode="bilinear", align_corners=False)[:, 0]
    yy, xx = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    masks = torch.zeros(n, side, side, dtype=torch.bool)
    rng = np.random.default_rng(seed)
    for i in range(n // 2, n):
        cy, cx = rng.integers(20, side - 20, 2)
        r = float(rng.uniform(4, 16))
        blob = torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        masks[i] = blob > 0.5
        maps[i] += float(rng.uniform(0.5, 3.0)) * blob
    return maps.numpy().astype(np.float32), masks.numpy()


def test_aupimo_time_and_grid_error():
    maps, masks = continuous_maps()
    start = time.perf_counter()
    official, points = aupimo_per_image(maps, masks)
    seconds = time.perf_counter() - start
    anomalous = ~np.isnan(official)
    print(f"\nAUPIMO, {len(maps)} maps of {maps.shape[-1]}² ({maps.size / 1e6:.1f} M pixels, "
          f"{len(np.unique(maps)) / 1e6:.1f} M distinct values): {seconds:.2f} s, {points} points integrated")
    for k in (3_000_000, 30_000_000):
        finer, finer_points = aupimo_per_image(maps, masks, num_thresholds=k)
        diff = np.abs(official[anomalous] - finer[anomalous])
        print(f"official 300,000 vs {k:,} thresholds ({finer_points} points): per image max |Δ| = "
              f"{diff.max():.2e}, mean |Δ| = {diff.mean():.2e}; mean AUPIMO {official[anomalous].mean():.6f} vs "
              f"{finer[anomalous].mean():.6f}")
