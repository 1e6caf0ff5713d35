"""Benchmark problems of realistic size, built deterministically."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def mvtec_sized_pixel_problem(n: int = 1725, size: int = 256, anomalous_fraction: float = 0.7,
                              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(maps float32 (n,size,size), masks bool): about 113 M pixels at the defaults, like
    MVTec AD's test set at 256 px; anomalous images carry 1–3 smooth blobs covering a few
    per cent of the image, and the maps are noisy scores that are higher inside the blobs."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, size, size), bool)
    yy, xx = np.mgrid[0:size, 0:size]
    for i in np.nonzero(rng.random(n) < anomalous_fraction)[0]:
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.integers(0, size, 2)
            ry, rx = rng.uniform(4, size / 10, 2)
            masks[i] |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
    maps = np.empty((n, size, size), np.float32)
    chunk = 64
    for lo in range(0, n, chunk):  # build in chunks to bound peak memory
        m = rng.standard_normal((min(chunk, n - lo), size, size), dtype=np.float32)
        m = ndimage.uniform_filter(m, size=(1, 5, 5))
        m += 0.35 * masks[lo : lo + chunk]
        maps[lo : lo + chunk] = np.round(m, 3)  # realistic ties
    return maps, masks
