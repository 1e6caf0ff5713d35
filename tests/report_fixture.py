"""A fixed set of result rows (two methods, two categories, one failed cell) for report tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from adbench.results.store import ResultStore

ROWS = [
    dict(method="alpha", category="pill", image_auroc=0.91, pixel_auroc=0.95, au_pro=0.80, latency_ms=2.0,
         params_inference=1_000_000, params_total=1_200_000, gmacs=0.5, forward_mb=3.0, backward_mb=4.0, model_size_mb=4.0, onnx_size_mb=4.1),
    dict(method="alpha", category="fabric", image_auroc=0.99, pixel_auroc=0.97, au_pro=0.90, latency_ms=2.2,
         params_inference=1_000_000, params_total=1_200_000, gmacs=0.5, forward_mb=3.0, backward_mb=4.0, model_size_mb=4.0, onnx_size_mb=4.1),
    dict(method="beta", category="pill", image_auroc=0.95, pixel_auroc=0.90, au_pro=0.70, latency_ms=8.0,
         params_inference=5_000_000, params_total=5_000_000, gmacs=2.0, forward_mb=9.0, backward_mb=20.0, model_size_mb=19.0, onnx_size_mb=19.5),
    dict(method="beta", category="fabric", status="error", error="RuntimeError: out of memory"),
]


def write_fixture_rows(run_dir: Path, with_maps: bool = True) -> Path:
    store = ResultStore(run_dir)
    rng = np.random.default_rng(0)
    for i, r in enumerate(ROWS):
        row = {"cell_key": f"k{i}", "dataset": "synthetic", "track": "unsupervised", "seed": 0, "profile": "quick",
               "status": "ok", "error": None, "device": "cpu", "git_sha": "abc123", "adbench_version": "0.1.0",
               "torch_version": "2.x", "started_at": f"2026-01-01T00:00:0{i}+00:00",
               "plugin_distribution": "adbench", "plugin_version": "0.1.0", **r}
        if row["status"] == "ok":
            fpr = np.linspace(0, 1, 11)
            row["curves"] = {"image_roc": {"fpr": fpr.tolist(), "tpr": np.sqrt(fpr).tolist()},
                             "pro": {"fpr": fpr.tolist(), "pro": fpr.tolist()}}
            if with_maps:
                path = run_dir / "maps" / f"k{i}.npz"
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savez_compressed(path, images=rng.integers(0, 255, (3, 3, 16, 16), dtype=np.uint8),
                                    masks=rng.random((3, 16, 16)) > 0.8, maps=rng.random((3, 16, 16)).astype(np.float16),
                                    scores=np.array([0.9, 0.2, 0.1]), labels=np.array([1, 1, 0]),
                                    paths=np.array(["a", "b", "c"]))
                row["maps_file"] = f"maps/k{i}.npz"
        store.write(row)
    return run_dir
