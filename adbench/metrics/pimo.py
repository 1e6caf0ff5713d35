"""AUPIMO (Bertoldo et al. 2024, arXiv 2401.01984): per anomalous image, the area under its
true-positive rate against the *shared* false-positive rate of the normal images, on a log
axis between FPR 1e-5 and 1e-4, normalised to [0, 1].

The computation follows the official code (jpcbertoldo/aupimo ``pimo_numpy.py``, shipped
as ``anomalib.metrics.pimo.functional``), because papers compare against its numbers:

* an image is anomalous when its mask has a positive pixel;
* 300,000 thresholds evenly spaced (``torch.linspace`` in the maps' dtype) between the
  minimum and maximum score of the normal images; a pixel is positive when its score is
  ``>=`` the threshold;
* shared FPR = the mean over normal images of each image's FPR (a mean of per-image rates);
* the integration range runs between the thresholds whose shared FPR is nearest to each
  bound; points whose FPR is 0 are dropped; at most 30 points left is an error;
* the trapezoid rule over ln(FPR), divided by ln(1e-4 / 1e-5), clipped to [0, 1].

Each image's rates come from its own sorted scores and one ``searchsorted`` per threshold
grid, so nothing of size images × 300,000 is held for the anomalous images (only the rates
inside the integration range are computed). ``tests/test_pimo.py`` checks per-image values
against anomalib's implementation to 1e-6, on random, tied and constant maps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import MetricError

NUM_THRESHOLDS = 300_000
FPR_BOUNDS = (1e-5, 1e-4)
#: the official code refuses an integration range of this many points or fewer
MIN_POINTS = 30
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 names it trapz


def _images(maps: Any, masks: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Maps and masks as lists of per-image arrays (images may differ in size)."""
    as_list = lambda a: [np.asarray(x) for x in a]  # noqa: E731
    m, g = as_list(maps), [x.astype(bool) for x in as_list(masks)]
    if len(m) != len(g) or any(a.shape != b.shape for a, b in zip(m, g)):
        raise MetricError("AUPIMO: every map needs a mask of its shape")
    return m, g


def thresholds_of(normal_maps: list[np.ndarray], num_thresholds: int = NUM_THRESHOLDS) -> np.ndarray:
    """The official threshold grid: ``num_thresholds`` values evenly spaced between the normal
    images' minimum and maximum score, computed as torch computes it, in the maps' dtype."""
    import torch

    low = min(float(m.min()) for m in normal_maps)
    high = max(float(m.max()) for m in normal_maps)
    if not low < high:
        raise MetricError("AUPIMO: the normal images' scores are constant, so there is no threshold range")
    dtype = torch.float64 if normal_maps[0].dtype == np.float64 else torch.float32
    return torch.linspace(low, high, num_thresholds, dtype=dtype).numpy()


def _rate_above(sorted_scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The share of ``sorted_scores`` at or above each threshold (float64)."""
    below = np.searchsorted(sorted_scores, thresholds.astype(sorted_scores.dtype, copy=False), side="left")
    return (sorted_scores.size - below) / sorted_scores.size


def shared_fpr(normal_maps: list[np.ndarray], thresholds: np.ndarray) -> np.ndarray:
    """Mean over normal images of each image's FPR at every threshold."""
    total = np.zeros(thresholds.size, np.float64)
    for m in normal_maps:
        total += _rate_above(np.sort(m.ravel()), thresholds)
    return total / len(normal_maps)


def _nearest(shared: np.ndarray, level: float) -> int:
    """Index of the threshold whose shared FPR is nearest ``level`` (the first of ties)."""
    if not shared.min() <= level <= shared.max():
        raise MetricError(f"AUPIMO: FPR {level:g} is outside the shared FPR's range [{shared.min():g}, "
                          f"{shared.max():g}]")
    return int(np.argmin(np.abs(shared - level)))


def aupimo_per_image(maps: Any, masks: Any, num_thresholds: int = NUM_THRESHOLDS,
                     fpr_bounds: tuple[float, float] = FPR_BOUNDS) -> tuple[np.ndarray, int]:
    """Each image's AUPIMO (NaN for normal images) and the number of points integrated."""
    m, g = _images(maps, masks)
    anomalous = np.array([x.any() for x in g])
    if anomalous.all() or not anomalous.any():
        raise MetricError("AUPIMO needs at least one normal and one anomalous test image")
    normal_maps = [x for x, a in zip(m, anomalous) if not a]
    thresholds = thresholds_of(normal_maps, num_thresholds)
    shared = shared_fpr(normal_maps, thresholds)
    low, high = fpr_bounds
    first, last = _nearest(shared, high), _nearest(shared, low)  # FPR falls as the threshold rises
    if first >= last:
        raise MetricError(f"AUPIMO: the thresholds of FPR {high:g} and {low:g} are in the wrong order "
                          f"({first} >= {last})")
    fpr = shared[first:last + 1][::-1]  # rising FPR
    with np.errstate(divide="ignore"):
        log_fpr = np.log(fpr)
    finite = np.isfinite(log_fpr)
    if not finite.any():
        raise MetricError("AUPIMO: the shared FPR is 0 across the whole integration range")
    points = int(finite.sum())
    if points <= MIN_POINTS:
        raise MetricError(f"AUPIMO: only {points} of the {num_thresholds:,} thresholds fall in the FPR range "
                          f"{low:g}–{high:g}; the official computation needs more than {MIN_POINTS}")
    grid = thresholds[first:last + 1][::-1][finite]
    out = np.full(len(m), np.nan)
    for i in np.nonzero(anomalous)[0]:
        tpr = _rate_above(np.sort(m[i][g[i]]), grid)
        out[i] = float(np.clip(_trapezoid(tpr, x=log_fpr[finite]) / np.log(high / low), 0.0, 1.0))
    return out, points


def aupimo(maps: Any, masks: Any) -> float:
    """Mean AUPIMO over the anomalous images (the data set's value in the AUPIMO paper)."""
    values, _ = aupimo_per_image(maps, masks)
    return float(np.nanmean(values))
