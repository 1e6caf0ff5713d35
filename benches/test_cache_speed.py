"""Tensor cache: a second pass over a data set must load ≥5× faster than decoding again.

Run: ``pytest -m bench benches/test_cache_speed.py -s`` (prints both figures).
"""

from __future__ import annotations

import os
import tempfile
import time

import pytest

pytestmark = pytest.mark.bench


def test_second_pass_from_cache(benchmark):
    from adbench.config import DatasetSpec
    from adbench.data.adapters import Synthetic
    from adbench.data.loading import load_samples

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ADBENCH_CACHE"] = tmp
        ad = Synthetic(DatasetSpec("synthetic", "synthetic", image_size=256,
                                   options={"n_train": 200, "n_test_good": 20, "n_per_defect": 20}))
        samples = [s for c in ad.categories() for split in ("train", "test") for s in ad.samples(c, split)]
        start = time.perf_counter()
        load_samples(samples, 128, use_cache=False)
        decode = time.perf_counter() - start
        load_samples(samples, 128)  # fills the cache
        cached = benchmark.pedantic(load_samples, args=(samples, 128), rounds=5, iterations=1)
        t = benchmark.stats.stats.median
        print(f"\n[cache] {len(samples)} PNGs 256→128 px: decode {decode:.2f} s, cached {t:.3f} s, "
              f"{decode / t:.1f}x faster (target ≥ 5x)")
        assert len(cached) == len(samples)
        assert decode / t >= 5
