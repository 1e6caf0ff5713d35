"""Metrics against oracles: scikit-learn for ROC/AP, a deliberately plain AU-PRO, golden cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from scipy import ndimage
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from adbench import metrics as M

# Scores drawn from a handful of values, so ties are frequent.
scores_labels = st.integers(2, 60).flatmap(lambda n: st.tuples(
    st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5000001, 1.0, 3.0, -2.0]) | st.floats(-5, 5),
             min_size=n, max_size=n),
    st.lists(st.integers(0, 1), min_size=n, max_size=n)).filter(lambda t: 0 < sum(t[1]) < n))


@given(scores_labels)
@settings(max_examples=300, deadline=None)
def test_auroc_and_ap_match_sklearn(data):
    s, y = np.array(data[0]), np.array(data[1])
    assert M.image_auroc(s, y) == pytest.approx(roc_auc_score(y, s), abs=1e-9)
    assert M.image_ap(s, y) == pytest.approx(average_precision_score(y, s), abs=1e-9)


@given(scores_labels)
@settings(max_examples=200, deadline=None)
def test_f1max_matches_precision_recall_curve(data):
    s, y = np.array(data[0]), np.array(data[1])
    p, r, t = precision_recall_curve(y, s)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), 0)
    best, thr = M.image_f1max_threshold(s, y)
    assert best == pytest.approx(f1.max(), abs=1e-9)
    # the returned threshold reaches that F1
    pred = s >= thr
    tp = (pred & (y == 1)).sum()
    assert 2 * tp / (pred.sum() + y.sum()) == pytest.approx(best, abs=1e-12)


def test_pixel_auroc_matches_sklearn_and_accepts_torch():
    rng = np.random.default_rng(0)
    masks = np.zeros((4, 16, 16), bool)
    masks[1, 3:7, 3:9] = True
    masks[2, 10:12, 1:3] = True
    maps = rng.random((4, 16, 16)).astype(np.float32) + masks * 0.3
    maps = np.round(maps, 2)  # ties
    expect = roc_auc_score(masks.ravel(), maps.ravel())
    assert M.pixel_auroc(maps, masks) == pytest.approx(expect, abs=1e-12)
    assert M.pixel_auroc(torch.from_numpy(maps), torch.from_numpy(masks)) == pytest.approx(expect, abs=1e-12)
    assert M.pixel_ap(maps, masks) == pytest.approx(average_precision_score(masks.ravel(), maps.ravel()), abs=1e-12)


# -- AU-PRO against a plain reference ---------------------------------------------------
def plain_au_pro(maps: np.ndarray, masks: np.ndarray, limit: float = 0.3) -> float:
    """Per-threshold loop over every distinct score: the definition, written for clarity."""
    regions = []
    for i in range(len(masks)):
        lab, n = ndimage.label(masks[i], structure=np.ones((3, 3)))
        regions += [(i, lab == r) for r in range(1, n + 1)]
    normal = ~masks
    points = [(0.0, 0.0)]
    for t in np.unique(maps)[::-1]:
        above = maps >= t
        fpr = (above & normal).sum() / normal.sum()
        pro = np.mean([above[i][reg].mean() for i, reg in regions])
        points.append((fpr, pro))
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    # integrate up to `limit`, interpolating linearly there
    area = 0.0
    for j in range(1, len(x)):
        x0, x1, y0, y1 = x[j - 1], x[j], y[j - 1], y[j]
        if x0 >= limit:
            break
        if x1 > limit:
            y1 = y0 + (y1 - y0) * (limit - x0) / (x1 - x0)
            x1 = limit
        area += 0.5 * (y0 + y1) * (x1 - x0)
    return area / limit


@pytest.mark.parametrize("seed", range(8))
def test_au_pro_matches_plain_reference(seed):
    rng = np.random.default_rng(seed)
    n, h = 5, 20
    masks = np.zeros((n, h, h), bool)
    for i in range(1, n):
        for _ in range(rng.integers(1, 3)):
            y, x = rng.integers(0, h - 5, 2)
            masks[i, y : y + rng.integers(1, 6), x : x + rng.integers(1, 6)] = True
    maps = rng.integers(0, 12, (n, h, h)).astype(np.float64) + 4 * masks * rng.random((n, h, h))
    maps = np.round(maps, 1)
    for limit in (0.3, 0.05, 1.0):
        assert M.au_pro(maps, masks, limit) == pytest.approx(plain_au_pro(maps, masks, limit), abs=1e-6)


def test_au_pro_golden_two_regions_of_different_size():
    # Image 0: a 1-pixel region scored 2 and a 3-pixel region scored 1; 4 normal pixels.
    masks = np.array([[[1, 0, 1, 1], [0, 0, 0, 1]]], bool)
    maps = np.array([[[2, 0, 1, 1], [0, 0, 0, 1]]], float)
    # Normals all score 0, so PRO reaches 1 at FPR 0: the area to 0.3 is the full rectangle.
    assert M.au_pro(maps, masks, 0.3) == pytest.approx(1.0)
    # Make one normal pixel score 1.5 (FPR 0.25 above the 1-pixel region's threshold):
    maps[0, 0, 1] = 1.5
    # curve: (0,0) → (0, .5) at t=2; at t=1.5 → (.25, .5); at t=1 → (.25, 1); then flat to 1.
    # area to 0.3 = .25*.5 + .05*1 = .175; normalised .175/.3
    assert M.au_pro(maps, masks, 0.3) == pytest.approx(0.175 / 0.3)


def test_regions_use_8_connectivity_and_do_not_cross_images():
    masks = np.zeros((2, 4, 4), bool)
    masks[0, 0, 0] = masks[0, 1, 1] = True  # diagonal neighbours: one region
    masks[1, 0, 0] = True  # same position, another image: another region
    maps = np.zeros((2, 4, 4))
    maps[0, 0, 0] = 1.0  # half of region A detected at t=1
    # regions: A (2 px, half above 1), B (1 px, none) → PRO at t=1 = (0.5 + 0) / 2
    fpr, pro = M.PixelEvaluator(maps, masks).pro_curve_full()
    assert pro[np.searchsorted(fpr, 0, side="right") - 1] == pytest.approx(0.25)


def test_single_positive_and_constant_scores():
    assert M.image_auroc([0.1, 0.2, 0.9], [0, 0, 1]) == 1.0
    assert M.image_auroc([0.5] * 5, [0, 1, 0, 1, 0]) == 0.5
    assert M.pixel_auroc(np.zeros((2, 4, 4)), np.eye(4, dtype=bool)[None].repeat(2, 0)) == 0.5


def test_all_normal_is_an_explicit_error():
    with pytest.raises(M.MetricError, match="no anomalous"):
        M.image_auroc([0.1, 0.2], [0, 0])


def test_nan_scores_name_the_sample():
    with pytest.raises(M.MetricError, match="sample 2"):
        M.image_auroc([0.1, 0.2, float("nan")], [0, 1, 0])
    maps = np.zeros((3, 4, 4))
    maps[1, 2, 2] = np.inf
    with pytest.raises(M.MetricError, match="sample 1"):
        M.pixel_auroc(maps, np.ones((3, 4, 4), bool) & (np.arange(4) > 1))


def test_pixel_metrics_computes_everything_at_once():
    rng = np.random.default_rng(3)
    masks = np.zeros((3, 12, 12), bool)
    masks[0, 2:5, 2:5] = True
    maps = rng.random((3, 12, 12)) + masks
    out = M.pixel_metrics(maps, masks)
    assert out["pixel_auroc"] == pytest.approx(M.pixel_auroc(maps, masks))
    assert out["au_pro"] == pytest.approx(M.au_pro(maps, masks))
    assert out["au_pro_005"] == pytest.approx(M.au_pro(maps, masks, 0.05))
    assert set(out) == {"pixel_auroc", "pixel_ap", "pixel_f1max", "au_pro", "au_pro_005"}  # the streamable ones


def test_parallel_chunked_sort_path_is_exact(monkeypatch):
    from adbench.metrics import ranking

    monkeypatch.setattr(ranking, "_PARALLEL_MIN", 10)
    rng = np.random.default_rng(5)
    masks = rng.random((6, 30, 30)) < 0.05
    maps = np.round(rng.random((6, 30, 30)) + masks * 0.2, 2)  # float64: the sorting path (float32 is counted)
    ev = M.PixelEvaluator(maps, masks)
    assert len(ev.split._all.chunks) > 1
    assert ev.auroc() == pytest.approx(roc_auc_score(masks.ravel(), maps.ravel()), abs=1e-12)
    assert ev.average_precision() == pytest.approx(average_precision_score(masks.ravel(), maps.ravel()), abs=1e-12)
    assert ev.au_pro() == pytest.approx(plain_au_pro(maps, masks), abs=1e-6)


def test_resampled_interval_of_any_metric_agrees_with_the_pair_count_bootstrap():
    """A plugin metric flagged ``bootstrap`` without an interval function is re-evaluated on
    the stratified resamples the pair-count bootstrap draws; for image AUROC (whose pair counts
    are exact) the two intervals are therefore the same."""
    from adbench.metrics.bootstrap import IntervalInput, image_auroc_interval, resampled_interval

    rng = np.random.default_rng(3)
    labels = np.r_[np.zeros(120, int), np.ones(60, int)]
    scores = rng.normal(size=180) + 0.8 * labels
    data = IntervalInput(scores, labels, None, np.zeros((180, 1, 1), bool), None, seed=0)
    fast = image_auroc_interval(data)
    generic = resampled_interval(M.image_auroc, "image", data)
    assert fast.low < M.image_auroc(scores, labels) < fast.high
    assert generic.low == pytest.approx(fast.low, abs=1e-12) and generic.high == pytest.approx(fast.high, abs=1e-12)
    assert resampled_interval(M.pixel_auroc, "pixel", data) is None  # no maps: no pixel interval
