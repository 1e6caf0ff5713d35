"""Pixel-level metrics and AU-PRO, exact and fast (docs/architecture.md, "Metrics").

:class:`PixelEvaluator` counts every pixel's score once and keeps the anomalous pixels with
their region ids; AUROC, AP, F1-max and AU-PRO then all come from counts of scores below
the distinct anomalous scores. Scores are kept as sorted chunks (:class:`ChunkSorted`) until
4 M float32 pixels, then counted in an exact radix histogram of bounded memory
(:mod:`adbench.metrics.radix`); other dtypes stay sorted. ``PixelEvaluator(maps, masks)``
evaluates arrays in memory; fed batch by batch (``update`` then ``compute``) it never holds
the maps. Both give the same float64
values, with the same tie handling. The PRO curve is built only at the distinct anomalous
scores (two points each: just above and at the threshold), which is the same
piecewise-linear curve as the MVTec AD evaluation's one-point-per-distinct-score curve.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any, Iterator

import numpy as np
from scipy import ndimage

from .ranking import ChunkSorted, MetricError, SortedSplit, _check_both, _thin, as_numpy, check_finite

#: from this many float32 pixels on, scores are counted (radix histogram) rather than kept
#: sorted: below it sorting is faster and smaller than the histogram's 256 KiB rows
COUNTING_MIN_PIXELS = 4_000_000

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


def _regions(m: np.ndarray, g: np.ndarray, first_id: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The anomalous pixels of one image: region ids (8-connected, numbered from
    ``first_id``), their scores, and how many regions there are. Labelled inside the
    regions' bounding box: the same ids, row-major order and scores, at a fraction of the
    cost on a large image with small defects."""
    rows, cols = np.flatnonzero(g.any(axis=1)), np.flatnonzero(g.any(axis=0))
    if rows.size == 0:
        return np.zeros(0, np.int32), m[:0, :0].ravel(), 0
    box = np.s_[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    regions, n = ndimage.label(g[box], structure=_EIGHT)
    inside = regions > 0
    return regions[inside] + (first_id - 1), m[box][inside], int(n)


class PixelEvaluator:
    """All pixel metrics of one (maps, masks) problem, sharing one count of the scores.

    ``PixelEvaluator(maps, masks)`` evaluates arrays held in memory; ``PixelEvaluator()``
    then ``update(maps, masks)`` per batch (images may differ in size between and within
    batches) and ``compute()`` evaluates a stream without holding it.
    """

    def __init__(self, maps: Any = None, masks: Any = None):
        self._split: SortedSplit | None = None
        self._pro_points: tuple[np.ndarray, np.ndarray] | None = None
        self._maps: np.ndarray | None = None
        self._masks: np.ndarray | None = None
        self._counts: Any = None  # streaming: ChunkSorted, then RadixCounts, of every score
        self._dtype: np.dtype | None = None
        self._pos: list[np.ndarray] = []
        self._ids: list[np.ndarray] = []
        self._n_regions = 0
        if maps is not None or masks is not None:
            m, g = _validate(maps, masks)
            if m.dtype == np.float32 and m.size >= COUNTING_MIN_PIXELS:
                self._add(m, g)  # counting beats sorting on large problems (docs/benchmarks.md)
            else:
                self._split = SortedSplit.from_all(m, g)
                self._maps, self._masks = m, g

    # -- streaming ----------------------------------------------------------------------
    def update(self, maps: Any, masks: Any) -> "PixelEvaluator":
        """Add a batch: ``(N,H,W)`` arrays, or sequences of ``(H,W)`` arrays of any sizes."""
        if self._maps is not None:
            raise MetricError("this PixelEvaluator was built from arrays; create PixelEvaluator() to stream")
        pairs = zip(maps, masks) if isinstance(maps, (list, tuple)) else [(maps, masks)]
        for mp, mk in pairs:
            m, g = _validate(mp, mk)
            self._add(m, g)
        self._split, self._pro_points = None, None
        return self

    def _add(self, m: np.ndarray, g: np.ndarray) -> None:
        if self._counts is None:
            self._dtype = m.dtype
            self._counts = ChunkSorted()
        elif m.dtype != self._dtype:
            raise MetricError(f"anomaly maps changed dtype within one evaluation ({self._dtype} then {m.dtype}); "
                              f"pass one dtype (float32 keeps memory bounded)")
        if (isinstance(self._counts, ChunkSorted) and m.dtype == np.float32
                and self._counts.size + m.size >= COUNTING_MIN_PIXELS):
            from .radix import RadixCounts

            counts = RadixCounts()  # from here on, memory follows the range of the scores, not their number
            for chunk in self._counts.chunks:
                counts.add(chunk)
            self._counts = counts
        self._counts.add(m)
        for i in range(len(m)):
            if g[i].any():
                ids, scores, n = _regions(m[i], g[i], self._n_regions + 1)
                self._ids.append(ids)
                self._pos.append(scores)
                self._n_regions += n

    def compute(self, fpr_limit: float = 0.3) -> dict[str, float]:
        """Pixel AUROC, AP, F1-max and AU-PRO (to ``fpr_limit``, normalised) of everything added."""
        return {"pixel_auroc": self.auroc(), "pixel_ap": self.average_precision(),
                "pixel_f1max": self.f1_max(), "au_pro": self.au_pro(fpr_limit)}

    @property
    def n_regions(self) -> int:
        """How many ground-truth regions (8-connected, per image) AU-PRO averages over."""
        return self._anomalous_pixels()[2] if self._maps is not None else self._n_regions

    @property
    def n_pixels(self) -> int:
        """How many pixels were scored."""
        if self._maps is not None:
            return int(self._maps.size)
        return 0 if self._counts is None else int(self._counts.size)

    @property
    def nbytes(self) -> int:
        """Memory held by a streaming evaluator (the counts and the anomalous pixels)."""
        held = sum(a.nbytes for a in self._pos) + sum(a.nbytes for a in self._ids)
        return held + (self._counts.nbytes if self._counts is not None else 0)

    @property
    def split(self) -> SortedSplit:
        if self._split is None:
            if self._counts is None:
                raise MetricError("no pixels: call update(maps, masks) first")
            pos = np.concatenate(self._pos) if self._pos else np.zeros(0, self._dtype)
            _check_both(pos.size, self._counts.size - pos.size)
            values, counts = np.unique(pos, return_counts=True)
            ascending = np.repeat(values, counts)  # the positives sorted, without a second sort
            self._split = SortedSplit(values[::-1].copy(), counts[::-1].copy(), self._counts, ascending)
        return self._split

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

    def _anomalous_pixels(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Region ids and scores of every anomalous pixel, image by image, and the region count."""
        if self._maps is None:
            return np.concatenate(self._ids), np.concatenate(self._pos), self._n_regions
        ids, scores = [], []
        n_regions = 0
        for i in np.nonzero(self._masks.reshape(len(self._masks), -1).any(axis=1))[0]:
            region_ids, values, n = _regions(self._maps[i], self._masks[i], n_regions + 1)
            ids.append(region_ids)
            scores.append(values)
            n_regions += n
        return np.concatenate(ids), np.concatenate(scores), n_regions

    def _build_pro(self) -> tuple[np.ndarray, np.ndarray]:
        ids, scores, n_regions = self._anomalous_pixels()
        sizes = np.bincount(ids, minlength=n_regions + 1).astype(np.float64)
        return overlap_curve(scores, 1.0 / (sizes[ids] * n_regions), self.split)

    def pro_curve(self, max_points: int | None = 2000) -> tuple[np.ndarray, np.ndarray]:
        fpr, pro = self.pro_curve_full()
        return _thin(fpr, pro, max_points)

    def au_pro(self, fpr_limit: float = 0.3) -> float:
        """Area under the PRO curve up to ``fpr_limit``, divided by ``fpr_limit``."""
        if not 0 < fpr_limit <= 1:
            raise MetricError(f"fpr_limit must be in (0, 1], got {fpr_limit}")
        fpr, pro = self.pro_curve_full()
        return trapezoid_to(fpr, pro, fpr_limit) / fpr_limit


def overlap_curve(scores: np.ndarray, weights: np.ndarray, split: SortedSplit) -> tuple[np.ndarray, np.ndarray]:
    """(FPR, overlap) vertices from (0, 0) to (1, 1) of a per-region-overlap curve: each
    anomalous pixel adds its ``weight`` to the overlap once the threshold reaches its score
    (PRO: 1 / (region size · regions); sPRO: 1 / (saturation area · channels) for a channel's
    saturating pixels), and ``split`` counts the normal pixels at or above each threshold. Two
    vertices per distinct score (just above it, and at it), as the MVTec evaluations' curves."""
    order = np.argsort(-scores, kind="stable")
    scores, weights = scores[order], weights[order]
    last_of_tie = np.append(np.diff(scores) != 0, True)
    thresholds = scores[last_of_tie]
    at = np.minimum(np.cumsum(weights)[last_of_tie], 1.0)
    before = np.concatenate([[0.0], at[:-1]])
    n = float(split.n_neg)
    fpr_above = split.neg_above(thresholds) / n
    fpr_at = split.neg_at_least(thresholds) / n
    fpr = np.concatenate([[0.0], np.column_stack([fpr_above, fpr_at]).ravel(), [1.0]])
    overlap = np.concatenate([[0.0], np.column_stack([before, at]).ravel(), [1.0]])
    return fpr, overlap


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


def pixel_metrics(maps: Any, masks: Any) -> dict[str, float]:
    """The curve metrics of one set of maps and masks at once: pixel AUROC, AP, F1-max and
    AU-PRO at FPR 0.3 and 0.05, sorting the normal pixels a single time."""
    ev = PixelEvaluator(maps, masks)
    return {**ev.compute(0.3), "au_pro_005": ev.au_pro(0.05)}
