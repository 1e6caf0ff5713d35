"""The embedded synthetic data set must generate in < 20 s (the whole default set, cold).

Run: ``pytest -m bench benches/test_synthetic_speed.py -s`` (prints the figure).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench


def test_default_set_generates_fast(benchmark):
    from adbench.config import load_catalogue
    from adbench.data import synthetic

    spec = load_catalogue(Path(__file__).resolve().parents[1] / "datasets.toml")["synthetic"]
    opts = spec.options

    def generate() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            synthetic.ensure_generated(Path(tmp), categories=list(spec.categories),
                                       seed=0, size=int(spec.image_size), n_train=int(opts["n_train"]),
                                       n_test_good=int(opts["n_test_good"]), n_per_defect=int(opts["n_per_defect"]))

    benchmark.pedantic(generate, rounds=2, iterations=1)
    t = benchmark.stats.stats.max
    print(f"\n[synthetic] default set ({', '.join(spec.categories)}, "
          f"{spec.image_size} px) generated in {t:.1f} s, slowest of 2 (target < 20 s)")
    assert t < 20
