"""Pixel metrics on the same ground-truth pixels for every method: the streaming evaluator is
exactly the in-memory one, and a run scores at native resolution unless asked otherwise."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import average_precision_score, roc_auc_score

from adbench.metrics import MetricError, PixelEvaluator
from adbench.metrics.radix import RadixCounts
from adbench.results.store import load_row
from conftest import one_dataset, run_cli


def _problem(kind: str, dtype: type, seed: int = 0, n: int = 10, h: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, h, h), bool)
    for i in range(n // 2):
        y, x = rng.integers(0, h - 6, 2)
        masks[i, y:y + rng.integers(1, 6), x:x + rng.integers(1, 6)] = True
        masks[i, rng.integers(0, h), rng.integers(0, h)] = True  # a one-pixel region
    if kind == "random":
        maps = rng.normal(0, 1, (n, h, h)) + 2 * masks
    elif kind == "tied":
        maps = np.round(rng.random((n, h, h)) * 4) / 4 + 0.25 * masks
    elif kind == "signed_zero":
        maps = np.where(rng.random((n, h, h)) < 0.5, -0.0, 0.0) + masks * rng.integers(0, 2, (n, h, h))
    else:  # constant
        maps = np.full((n, h, h), 0.5)
    return maps.astype(dtype), masks


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["random", "tied", "signed_zero", "constant"])
@pytest.mark.parametrize("batch", [1, 3, 10])
@pytest.mark.parametrize("count_from", [0, 2000, 10**9])  # counted from the start, after a switch, never
def test_streaming_equals_the_sorting_path_to_1e12(kind, dtype, batch, count_from, monkeypatch):
    from adbench.metrics import pixel

    monkeypatch.setattr(pixel, "COUNTING_MIN_PIXELS", count_from)
    maps, masks = _problem(kind, dtype)
    ref = PixelEvaluator(maps.astype(np.float64), masks)  # the sorting path: an independent reference
    expected = {"pixel_auroc": ref.auroc(), "pixel_ap": ref.average_precision(), "pixel_f1max": ref.f1_max(),
                "au_pro": ref.au_pro(0.3)}
    ev = PixelEvaluator()
    for lo in range(0, len(maps), batch):
        ev.update(maps[lo:lo + batch], masks[lo:lo + batch])
    got = ev.compute()
    assert got.keys() == expected.keys()
    for key in expected:
        assert abs(got[key] - expected[key]) <= 1e-12, (key, got[key], expected[key])
    assert ev.n_regions == ref.n_regions and ev.n_pixels == maps.size
    counted = type(ev._counts).__name__ == "RadixCounts"
    assert counted == (dtype is np.float32 and count_from < maps.size), "the path under test is the one named"
    monkeypatch.setattr(pixel, "COUNTING_MIN_PIXELS", 0)  # large float32 arrays in memory are counted, not sorted
    in_memory = PixelEvaluator(maps, masks).compute()
    assert all(abs(in_memory[k] - expected[k]) <= 1e-12 for k in expected)
    assert abs(expected["pixel_auroc"] - roc_auc_score(masks.ravel(), maps.ravel().astype(np.float64))) <= 1e-12


def test_streaming_images_of_different_sizes_match_scikit_learn():
    rng = np.random.default_rng(3)
    maps, masks = [], []
    for h, w in [(20, 30), (31, 17), (8, 8), (40, 12)]:
        g = np.zeros((h, w), bool)
        g[2:5, 3:6] = True
        maps.append((rng.random((h, w)) + g).astype(np.float32))
        masks.append(g)
    ev = PixelEvaluator().update(maps[:2], masks[:2]).update(maps[2:], masks[2:])
    flat_maps = np.concatenate([m.ravel() for m in maps]).astype(np.float64)
    flat_masks = np.concatenate([g.ravel() for g in masks])
    assert abs(ev.auroc() - roc_auc_score(flat_masks, flat_maps)) <= 1e-12
    assert abs(ev.average_precision() - average_precision_score(flat_masks, flat_maps)) <= 1e-12
    assert ev.n_regions == 4


def test_radix_counts_are_exact_below_and_at_every_value():
    rng = np.random.default_rng(5)
    values = np.concatenate([np.round(rng.normal(0, 3, 50_000), 1), [-0.0, 0.0, 1e-30, -1e-30, 3e38, -3e38]])
    values = values.astype(np.float32)
    counts = RadixCounts()
    for part in np.array_split(values, 7):
        counts.add(part)
    thresholds = np.unique(values).astype(np.float64)
    ordered = np.sort(values)
    for side in ("left", "right"):
        assert np.array_equal(counts.count_less(thresholds, side), np.searchsorted(ordered, thresholds.astype(np.float32),
                                                                                   side=side))
    with pytest.raises(ValueError, match="float32"):
        counts.count_less(np.array([0.1]), "left")  # 0.1 is no float32 value


@pytest.mark.parametrize("pending", [1_000, 9_973, 1 << 24])
def test_radix_counts_stay_exact_across_held_back_batches(monkeypatch, pending):
    """Values are held back and counted ``PENDING`` at a time: a query between batches, one
    that falls mid-way through a hold-back, and batches larger than it all count exactly."""
    from adbench.metrics import radix

    monkeypatch.setattr(radix, "PENDING", pending)
    rng = np.random.default_rng(11)
    values = np.concatenate([rng.gamma(0.5, 1.0, 30_000), np.zeros(5_000), np.round(rng.normal(0, 2, 20_000), 2)])
    values = values.astype(np.float32)
    counts = RadixCounts()
    seen = np.zeros(0, np.float32)
    for part in np.array_split(values, [7, 12_345, 12_346, 40_000]):
        counts.add(part)
        seen = np.concatenate([seen, part])
        thresholds = np.unique(seen)[::97].astype(np.float64)
        assert counts.size == seen.size
        assert np.array_equal(counts.count_less(thresholds, "right"),
                              np.searchsorted(np.sort(seen), thresholds.astype(np.float32), side="right"))


def test_radix_counts_report_the_memory_they_use_not_the_buffers_capacity(monkeypatch):
    from adbench.metrics import radix

    monkeypatch.setattr(radix, "PENDING", 1 << 20)  # a 4 MiB hold-back buffer
    counts = RadixCounts()
    counts.add(np.zeros(1_000, np.float32))  # one bucket, 1,000 values held back
    row = counts.table.shape[1] * counts.table.itemsize
    assert counts.nbytes == counts.slot_of.nbytes + 1_000 * 4
    counts.count_less(np.array([0.0]), "right")  # counts what is held: one bucket row now
    assert counts.nbytes == row + counts.slot_of.nbytes + 1_000 * 4  # the filled pages stay in use
    counts.add(np.ones(3_000, np.float32))
    assert counts.nbytes == row + counts.slot_of.nbytes + 3_000 * 4


def test_streaming_refuses_a_dtype_change_and_an_empty_problem():
    ev = PixelEvaluator().update(np.zeros((1, 4, 4), np.float32), np.ones((1, 4, 4), bool))
    with pytest.raises(MetricError, match="changed dtype"):
        ev.update(np.zeros((1, 4, 4)), np.ones((1, 4, 4), bool))
    with pytest.raises(MetricError, match="update"):
        PixelEvaluator().auroc()


def _dataset_with_tiny_defects(root, spots: list[int]) -> int:
    """MVTec layout, images of two sizes, one-pixel bright defects on a dark background.
    Returns how many defect regions were drawn."""
    rng = np.random.default_rng(0)
    cat = root / "grid"
    sizes = [(96, 96), (128, 80)]
    for split, kind, n in [("train", "good", 6), ("test", "good", 4), ("test", "spot", len(spots))]:
        (cat / split / kind).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            w, h = sizes[i % 2]
            img = (rng.random((h, w, 3)) * 40).astype(np.uint8)
            if kind == "spot":
                mask = np.zeros((h, w), np.uint8)
                for _ in range(spots[i]):
                    y, x = rng.integers(2, h - 2), rng.integers(2, w - 2)
                    img[y, x] = 255
                    mask[y, x] = 255
                (cat / "ground_truth" / "spot").mkdir(parents=True, exist_ok=True)
                Image.fromarray(mask).save(cat / "ground_truth" / "spot" / f"{i:03d}_mask.png")
            Image.fromarray(img).save(cat / split / kind / f"{i:03d}.png")
    return sum(spots)


def test_native_resolution_counts_the_small_defects_that_vanish_at_the_input_size(tmp_path, test_plugin_site):
    regions = _dataset_with_tiny_defects(tmp_path / "data", spots=[3, 2, 3, 2])
    catalogue = one_dataset(tmp_path, "mvtec_ad", tmp_path / "data", ["grid"])
    rows = {}
    for resolution in ("native", "input"):
        out = tmp_path / resolution
        args = ["run", "sleepy", "--dataset", "mine", "--datasets", str(catalogue), "--profile", "smoke",
                "--set", "sleep=0", "--set", "image_size=32", "--out", str(out)]
        if resolution == "input":
            args += ["--eval-resolution", "input"]
        res = run_cli(args, site=test_plugin_site, env={"ADBENCH_LOAD_PLUGINS": "testplugins"})
        assert res.returncode == 0, res.stderr
        (rows[resolution],) = [load_row(p) for p in (out / "cells").glob("*.json")]
        report = run_cli(["report", str(out), "--format", "md"], site=test_plugin_site,
                         env={"ADBENCH_LOAD_PLUGINS": "testplugins"})
        assert report.returncode == 0, report.stderr
        caption = (out / "tables" / "au_pro.md").read_text()
        assert f"Scored at {resolution}" in caption or ("input size" in caption and resolution == "input")
    native, small = rows["native"], rows["input"]
    assert native["eval_resolution"] == "native" and small["eval_resolution"] == "input"
    # native: every image at its own size (96x96 and 128x80), every one-pixel region scored
    assert native["eval_pixels"] == 4 * 96 * 96 + 4 * 128 * 80 and native["eval_regions"] == regions
    assert native["metric_resolutions"]["au_pro"] == "native"
    # input: 8 images of 32x32, where nearest-neighbour resizing deleted most one-pixel regions
    assert small["eval_pixels"] == 8 * 32 * 32 and small["eval_regions"] < regions
    assert native["au_pro"] is not None and native["au_pro"] != small["au_pro"]
    assert native["image_auroc"] == small["image_auroc"], "image metrics do not depend on the pixel resolution"


def test_save_maps_keeps_every_native_map_as_float16(tmp_path):
    out = tmp_path / "run"
    res = run_cli(["run", "convae", "--profile", "smoke", "--category", "fabric", "--save-maps", "--out", str(out)])
    assert res.returncode == 0, res.stderr
    (row,) = [load_row(p) for p in (out / "cells").glob("*.json")]
    with np.load(out / row["native_maps_file"]) as z:
        maps = [z[k] for k in z.files if k.startswith("map_")]
        assert len(maps) == row["n_test"] and len(z["paths"]) == row["n_test"]
        assert all(m.dtype == np.float16 and m.shape == (128, 128) for m in maps)  # the synthetic set's own size


def test_report_never_mixes_evaluation_resolutions(tmp_path):
    from adbench.report.build import write_report
    from adbench.results.store import ResultStore, load_rows

    store = ResultStore(tmp_path)
    for i, resolution in enumerate(["native", "input"]):
        store.write({"cell_key": f"k{i}", "method": "m", "dataset": "d", "category": "c", "track": "unsupervised",
                     "seed": 0, "profile": "smoke", "status": "ok", "image_auroc": 0.9, "pixel_auroc": 0.8 + i / 10,
                     "au_pro": 0.5, "eval_resolution": resolution})
    written = {p.name for p in write_report(load_rows([tmp_path]), tmp_path / "tables", ("csv", "md"))}
    assert {"pixel_auroc-native.csv", "pixel_auroc-input.csv", "image_auroc.csv"} <= written
    assert "pixel_auroc.csv" not in written
    native = (tmp_path / "tables" / "pixel_auroc-native.md").read_text()
    assert "0.800" in native and "0.900" not in native and "Scored at native resolution" in native
    summary = (tmp_path / "tables" / "summary.md").read_text()
    assert "m @native" in summary and "m @input" in summary
