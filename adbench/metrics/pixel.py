"""Pixel-level metrics and AU-PRO, exact and fast (docs/architecture.md, "Metrics").

:class:`PixelEvaluator` sorts the normal pixels once (values only, in place) and keeps the
anomalous pixels with their region ids; AUROC, AP, F1-max and AU-PRO then all come from
``searchsorted`` against that one sorted array. The PRO curve is built only at the
distinct anomalous scores (two points each: just above and at the threshold), which is the
same piecewise-linear curve as the MVTec AD evaluation's one-point-per-distinct-score curve.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any, Iterator

import numpy as np
from scipy import ndimage

from .ranking import MetricError, SortedSplit, as_numpy, check_finite, _thin

#: 8-connectivity, labelled image by image so regions never cross images
_EIGHT = np.ones((3, 3), dtype=bool)


def _validate(maps: Any, masks: Any) -> tuple[np.ndarray, np.ndarray]:
    m = as_numpy(maps)
    g = as_numpy(masks).astype(bool, copy=False)
    if m.ndim == 2:
        m, g = m[None], g[None]
    if m.ndim != 3 or m.shape != g.shape:
        raise MetricError(f"anomaly maps {m.shape} and masks {g.shape} must both be (N,H,W)")
    if not np.issubdtype(m.dtype, np.floating):
        m = m.astype(np.float64)
    check_finite(m, "anomaly maps")
    return m, g


class PixelEvaluator:
    """All pixel metrics of one (maps, masks) problem, sharing one sort of the normal pixels."""

    def __init__(self, maps: Any, masks: Any):
        m, g = _validate(maps, masks)
        self.split = SortedSplit.from_all(m, g)
        self._maps, self._masks = m, g
        self._pro_points: tuple[np.ndarray, np.ndarray] | None = None

    _sharing = 0
    _last: tuple[Any, Any, "PixelEvaluator"] | None = None

    @classmethod
    @contextlib.contextmanager
    def sharing(cls) -> Iterator[None]:
        """Within this block, :meth:`shared` reuses the evaluator of the very same arrays, so
        the registered pixel metrics (separate functions) sort one cell's pixels once. The
        arrays must not change inside the block; outside it nothing is cached."""
        cls._sharing += 1
        try:
            yield
        finally:
            cls._sharing -= 1
            if not cls._sharing:
                cls._last = None

    @classmethod
    def shared(cls, maps: Any, masks: Any) -> "PixelEvaluator":
        """The evaluator of these arrays: inside :meth:`sharing`, the one already built for them."""
        last = cls._last
        if cls._sharing and last is not None and last[0]() is maps and last[1]() is masks:
            return last[2]
        ev = cls(maps, masks)
        if cls._sharing:
            try:
                cls._last = (weakref.ref(maps), weakref.ref(masks), ev)
            except TypeError:  # lists and other objects without weak references: not shared
                pass
        return ev

    def auroc(self) -> float:
        return self.split.auroc()

    def average_precision(self) -> float:
        return self.split.average_precision()

    def f1_max(self) -> float:
        return self.split.f1_max()[0]

    def roc_curve(self, max_points: int | None = 2000) -> tuple[np.ndarray, np.ndarray]:
        return self.split.roc_curve(max_points)

    # -- PRO ------------------------------------------------------------------------
    def pro_curve_full(self) -> tuple[np.ndarray, np.ndarray]:
        """(FPR, PRO) vertices of the exact PRO curve, from (0, 0) to (1, 1)."""
        if self._pro_points is None:
            self._pro_points = self._build_pro()
        return self._pro_points

    def _build_pro(self) -> tuple[np.ndarray, np.ndarray]:
        ids, scores = [], []
        n_regions = 0
        for i in np.nonzero(self._masks.reshape(len(self._masks), -1).any(axis=1))[0]:
            regions, n = ndimage.label(self._masks[i], structure=_EIGHT)
            inside = regions > 0
            ids.append(regions[inside] + n_regions)
            scores.append(self._maps[i][inside])
            n_regions += n
        ids, scores = np.concatenate(ids), np.concatenate(scores)
        sizes = np.bincount(ids, minlength=n_regions + 1).astype(np.float64)
        weights = 1.0 / (sizes[ids] * n_regions)
        order = np.argsort(-scores, kind="stable")
        scores, weights = scores[order], weights[order]
        last_of_tie = np.append(np.diff(scores) != 0, True)
        thresholds = scores[last_of_tie]
        pro_at = np.minimum(np.cumsum(weights)[last_of_tie], 1.0)
        pro_before = np.concatenate([[0.0], pro_at[:-1]])
        n = float(self.split.n_neg)
        fpr_above = self.split.neg_above(thresholds) / n
        fpr_at = self.split.neg_at_least(thresholds) / n
        fpr = np.concatenate([[0.0], np.column_stack([fpr_above, fpr_at]).ravel(), [1.0]])
        pro = np.concatenate([[0.0], np.column_stack([pro_before, pro_at]).ravel(), [1.0]])
        return fpr, pro

    def pro_curve(self, max_points: int | None = 2000) -> tuple[np.ndarray, np.ndarray]:
        fpr, pro = self.pro_curve_full()
        return _thin(fpr, pro, max_points)

    def au_pro(self, fpr_limit: float = 0.3) -> float:
        """Area under the PRO curve up to ``fpr_limit``, divided by ``fpr_limit``."""
        if not 0 < fpr_limit <= 1:
            raise MetricError(f"fpr_limit must be in (0, 1], got {fpr_limit}")
        fpr, pro = self.pro_curve_full()
        return trapezoid_to(fpr, pro, fpr_limit) / fpr_limit


def trapezoid_to(x: np.ndarray, y: np.ndarray, x_max: float) -> float:
    """Trapezoid area of y(x) for x ≤ x_max, interpolating y linearly at x_max.

    ``x`` is non-decreasing; repeated x values (vertical steps) add nothing.
    """
    correction = 0.0
    ins = int(np.searchsorted(x, x_max, side="right"))
    if 0 < ins < x.size and x[ins - 1] != x_max:
        x0, x1, y0, y1 = x[ins - 1], x[ins], y[ins - 1], y[ins]
        y_at = y0 + (y1 - y0) * (x_max - x0) / (x1 - x0)
        correction = 0.5 * (y_at + y0) * (x_max - x0)
    xs, ys = x[:ins], y[:ins]
    return float(np.sum(0.5 * (ys[1:] + ys[:-1]) * np.diff(xs)) + correction)


def pixel_auroc(maps: Any, masks: Any) -> float:
    """ROC area over all pixels of all images (what VT-ADL's papers call "PRO")."""
    return PixelEvaluator.shared(maps, masks).auroc()


def pixel_ap(maps: Any, masks: Any) -> float:
    return PixelEvaluator.shared(maps, masks).average_precision()


def pixel_f1max(maps: Any, masks: Any) -> float:
    return PixelEvaluator.shared(maps, masks).f1_max()


def au_pro(maps: Any, masks: Any, fpr_limit: float = 0.3) -> float:
    """Normalised area under the per-region-overlap curve up to ``fpr_limit`` (MVTec AD)."""
    return PixelEvaluator.shared(maps, masks).au_pro(fpr_limit)


def pixel_metrics(maps: Any, masks: Any, fpr_limit: float = 0.3) -> dict[str, float]:
    """All pixel metrics at once, sorting the normal pixels a single time."""
    ev = PixelEvaluator(maps, masks)
    return {"pixel_auroc": ev.auroc(), "pixel_ap": ev.average_precision(),
            "pixel_f1max": ev.f1_max(), "au_pro": ev.au_pro(fpr_limit)}
