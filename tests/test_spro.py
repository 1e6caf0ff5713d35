"""AU-sPRO against an oracle transcribed from MVTec's LOCO evaluation code, on hand-built
multi-channel examples, and the reading of LOCO's ground-truth layout.

Oracle source: the MVTec LOCO AD evaluation scripts (2022, MVTec Software GmbH), as vendored
in M-3LAB/open-iad at ``metric/mvtec_loco/``: ``src/image.py`` (``DefectConfig``,
``GroundTruthChannel.get_saturation_area``, ``GroundTruthMap.get_or_over_channels``,
``AnomalyMap._get_binary_images``: ``np.greater``), ``src/metrics.py``
(``get_tp_areas_for_thresholds``, ``get_spros_for_thresholds``, ``get_fp_areas_for_thresholds``,
``get_tn_areas_for_thresholds``, ``get_fp_rates``), ``src/aggregation.py``
(``ThresholdMetrics.get_mean_spros``, ``MetricsAggregator._get_initial_thresholds``,
``binary_refinement``), ``src/util.py`` (``trapz``, ``get_auc_for_max_fpr``) and
``evaluate_experiment.py`` (``MAX_FPRS``, each anomaly type with every good image, their mean).
"""

from __future__ import annotations

import json
from bisect import bisect

import numpy as np
import pytest
from PIL import Image

from adbench.errors import DatasetError
from adbench.metrics import MetricError
from adbench.data.loco import DefectConfig, read_channels, read_defects_config
from adbench.metrics.spro import LOCO_LIMITS, SproEvaluator, au_spro_by_type


# -- the oracle, transcribed -------------------------------------------------------------------
def _saturation_area(mask, cfg):  # image.py, GroundTruthChannel.get_saturation_area
    area = np.sum(mask)
    if cfg.relative_saturation:
        return int(cfg.saturation_threshold * area)
    return np.minimum(cfg.saturation_threshold, area)


def _official_points(images, thresholds):
    """(FPR, mean sPRO) at each threshold (descending): metrics.py and aggregation.py."""
    spros, fp_total, tn_total = [], np.zeros(len(thresholds), np.int64), np.zeros(len(thresholds), np.int64)
    for amap, channels in images:
        binary = np.greater(amap[np.newaxis], np.array(thresholds)[:, None, None])  # AnomalyMap._get_binary_images
        for mask, cfg in channels:  # get_spros_for_thresholds
            tp_areas = np.sum(np.logical_and(binary, mask), axis=(1, 2))
            spros.append(np.minimum(tp_areas / _saturation_area(mask, cfg), 1.0))
        if channels:  # get_fp_areas_for_thresholds, get_tn_areas_for_thresholds
            combined = np.sum([m for m, _ in channels], axis=0).astype(bool)
            fp = np.sum(np.logical_and(binary, np.logical_not(combined)), axis=(1, 2))
            tn = np.sum(np.logical_not(combined)) - fp
        else:
            fp = np.sum(binary, axis=(1, 2))
            tn = np.sum(np.logical_not(binary), axis=(1, 2))
        fp_total += fp
        tn_total += tn
    return fp_total / (tn_total + fp_total), np.mean(spros, axis=0)  # get_fp_rates, get_mean_spros


def _official_trapz(x, y, x_max):  # util.py, trapz
    x, y = np.array(x), np.array(y)
    correction = 0.0
    if x_max not in x:
        ins = bisect(x, x_max)
        assert 0 < ins < len(x)
        y_interp = y[ins - 1] + ((y[ins] - y[ins - 1]) * (x_max - x[ins - 1]) / (x[ins] - x[ins - 1]))
        correction = 0.5 * (y_interp + y[ins - 1]) * (x_max - x[ins - 1])
    mask = x <= x_max
    x, y = x[mask], y[mask]
    return np.sum(0.5 * (y[1:] + y[:-1]) * (x[1:] - x[:-1])) + correction


def _official_auc(images, thresholds, limit):  # util.py, get_auc_for_max_fpr
    fprs, spros = _official_points(images, thresholds)
    assert fprs[0] == 0 and fprs[-1] == 1
    return _official_trapz(fprs, spros, limit) / limit


def _every_threshold(images, eps=1e-6):
    """Every distinct score, with the official end points (max + eps, min − eps), descending:
    the official computation with no threshold left out."""
    scores = np.unique(np.concatenate([m.ravel() for m, _ in images]))
    return np.r_[scores.max() + eps, scores[::-1], scores.min() - eps]


def _official_sampled(images, curve_max_distance=0.01, eps=1e-6):
    """The official refinement (aggregation.py: ``_get_initial_thresholds`` with 50 thresholds
    at equidistant ranks of all scores, then ``binary_refinement`` with min 20 / max 100 queries
    per step, 10 steps): the thresholds the official script would use on these maps."""
    scores = np.sort(np.concatenate([m.ravel() for m, _ in images]))
    idx = np.linspace(0, len(scores) - 1, num=50, endpoint=True, dtype=int)[1:-1]
    queries = sorted({scores.max() + eps, scores.min() - eps, *scores[idx]}, reverse=True)

    def values(qs):
        f, s = _official_points(images, sorted(qs, reverse=True))
        order = np.argsort(qs)[::-1]
        unsort = np.empty_like(order)
        unsort[order] = np.arange(len(order))
        pts = [np.array([a, b]) for a, b in zip(s, f)]
        return [pts[i] for i in unsort]

    vals = values(queries)
    for _ in range(10):
        cands = sorted(((np.linalg.norm(vals[i] - vals[i + 1]), (queries[i], queries[i + 1]))
                        for i in range(len(queries) - 1) if np.linalg.norm(vals[i] - vals[i + 1]) > curve_max_distance),
                       key=lambda c: c[0], reverse=True)[:100]
        if not cands:
            break
        remaining, total, new = max(20 - len(cands), 0), sum(d for d, _ in cands), []
        for d, (lo, hi) in cands:
            extra = int(np.round(d / total * remaining))
            new.extend(np.linspace(lo, hi, num=2 + 1 + extra)[1:-1])
            remaining -= extra
            total -= d
        merged = sorted(zip(list(queries) + new, list(vals) + values(new)), key=lambda p: p[0], reverse=True)
        queries, vals = [q for q, _ in merged], [v for _, v in merged]
    return np.array(queries)


# -- hand-built examples -------------------------------------------------------------------------
REL = DefectConfig("missing_part", 1, 0.5, True)
ABS = DefectConfig("extra_part", 2, 10, False)
FULL = DefectConfig("wrong_colour", 3, 1.0, True)


def _examples(seed=0, rounded=False):
    """Good images; an image with two overlapping channels (relative and absolute saturation);
    an absolute threshold above the channel's area; images of two sizes."""
    rng = np.random.default_rng(seed)

    def amap(h, w):
        m = rng.random((h, w))
        return np.round(m, 2) if rounded else m.astype(np.float32).astype(np.float64)

    def box(h, w, y0, y1, x0, x1):
        g = np.zeros((h, w), bool)
        g[y0:y1, x0:x1] = True
        return g

    a1 = amap(20, 24)
    c1, c2 = box(20, 24, 2, 8, 3, 9), box(20, 24, 5, 12, 6, 14)  # overlapping
    a1[c1] += 0.3
    a2 = amap(16, 16)
    c3 = box(16, 16, 1, 3, 1, 3)  # area 4 < absolute threshold 10: saturates at 4
    a2[c3] += 0.5
    a3 = amap(20, 24)
    c4 = box(20, 24, 10, 20, 0, 24)
    good = [(amap(20, 24), []), (amap(16, 16), [])]
    logical = [(a1, [(c1, REL), (c2, ABS)]), (a2, [(c3, ABS)])]
    structural = [(a3, [(c4, FULL)])]
    return good, logical, structural


@pytest.mark.parametrize("rounded", [False, True], ids=["continuous", "ties"])
@pytest.mark.parametrize("seed", range(3))
def test_au_spro_equals_the_official_computation_at_every_limit(seed, rounded):
    good, logical, _ = _examples(seed, rounded)
    images = logical + good
    ev = SproEvaluator()
    for m, ch in images:
        ev.update(m, ch)
    thresholds = _every_threshold(images)
    for limit in LOCO_LIMITS:
        assert ev.au_spro(limit) == pytest.approx(_official_auc(images, thresholds, limit), abs=1e-9), limit


def test_the_report_per_anomaly_type_adds_every_good_image_and_averages_the_types():
    good, logical, structural = _examples(4)
    images = good + logical + structural
    types = ["good"] * len(good) + ["logical_anomalies"] * len(logical) + ["structural_anomalies"] * len(structural)
    got = au_spro_by_type([m for m, _ in images], [c for _, c in images], types)
    for kind, own in (("logical_anomalies", logical), ("structural_anomalies", structural)):
        subset = own + good
        for limit in LOCO_LIMITS:
            assert got[kind][limit] == pytest.approx(
                _official_auc(subset, _every_threshold(subset), limit), abs=1e-9)
    assert got["mean"][0.05] == pytest.approx(0.5 * (got["logical_anomalies"][0.05]
                                                     + got["structural_anomalies"][0.05]))


def test_saturation_areas_follow_the_official_rounding():
    assert REL.saturation_area(13) == 6          # int(0.5 · 13)
    assert ABS.saturation_area(4) == 4 and ABS.saturation_area(40) == 10
    assert FULL.saturation_area(7) == 7
    one_pixel = np.zeros((4, 4), bool)
    one_pixel[0, 0] = True  # relative 0.5 of area 1 is int(0.5) = 0: the official code divides by zero
    with pytest.raises(MetricError, match="saturates at area 0"):
        SproEvaluator().update(np.zeros((4, 4)), [(one_pixel, REL)])


def test_the_sampled_official_thresholds_land_near_the_exact_value():
    """How far the official script's own threshold sampling (curve_max_distance 0.01) lies from
    the exact value on these maps; docs/architecture.md quotes the bound."""
    good, logical, structural = _examples(1)
    images = logical + structural + good
    ev = SproEvaluator()
    for m, ch in images:
        ev.update(m, ch)
    sampled = _official_sampled(images)
    assert len(sampled) < len(_every_threshold(images)), "the official script samples"
    for limit in LOCO_LIMITS:
        gap = abs(ev.au_spro(limit) - _official_auc(images, sampled, limit))
        assert gap < 0.01, (limit, gap)


# -- LOCO's ground-truth layout ------------------------------------------------------------------
def test_channels_and_defects_config_are_read_in_locos_layout(tmp_path):
    config = [{"defect_name": "missing_part", "pixel_value": 1, "saturation_threshold": 0.5,
               "relative_saturation": True},
              {"defect_name": "extra_part", "pixel_value": 2, "saturation_threshold": 10, "relative_saturation": False}]
    (tmp_path / "defects_config.json").write_text(json.dumps(config))
    cfg = read_defects_config(tmp_path / "defects_config.json")
    folder = tmp_path / "ground_truth" / "logical_anomalies" / "000"
    folder.mkdir(parents=True)
    for i, value in enumerate((1, 2)):
        a = np.zeros((8, 10), np.uint8)
        a[i:i + 3, 2:5] = value
        Image.fromarray(a).save(folder / f"{i:03d}.png")
    channels = read_channels(folder, cfg)
    assert [c.defect_name for _, c in channels] == ["missing_part", "extra_part"]
    assert all(m.shape == (8, 10) and m.sum() == 9 for m, _ in channels)

    bad = np.zeros((8, 10), np.uint8)
    bad[0, 0], bad[1, 1] = 1, 2
    Image.fromarray(bad).save(folder / "002.png")
    with pytest.raises(DatasetError, match="002.png"):
        read_channels(folder, cfg)
    unknown = np.zeros((8, 10), np.uint8)
    unknown[0, 0] = 9
    Image.fromarray(unknown).save(folder / "002.png")
    with pytest.raises(DatasetError, match="pixel value 9"):
        read_channels(folder, cfg)
    (tmp_path / "defects_config.json").write_text(json.dumps([{**config[0], "saturation_threshold": 2}]))
    with pytest.raises(DatasetError, match="entry 0"):
        read_defects_config(tmp_path / "defects_config.json")
