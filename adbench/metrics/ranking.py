"""Exact ranking metrics from sorted score arrays (docs/architecture.md, "Metrics").

Every metric here splits the scores by ground truth and sorts each side by value only;
ties between the sides are resolved with ``searchsorted`` (left/right), which reproduces
scikit-learn's tie handling exactly (tied scores move together) without an ``argsort`` of
all samples. That is what makes pixel-level metrics over 10⁸ pixels take seconds.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class MetricError(ValueError):
    """Inputs for which a metric is undefined or invalid; the message says why."""


def as_numpy(x: Any, dtype: Any = None) -> np.ndarray:
    """numpy view of a numpy array, torch tensor or sequence (no copy when possible)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    return arr.astype(dtype, copy=False) if dtype is not None else arr


def check_finite(scores: np.ndarray, what: str = "scores") -> None:
    """Raise :class:`MetricError` naming the first sample (index along axis 0) with NaN/inf."""
    if np.isfinite(scores).all():
        return
    flat = ~np.isfinite(scores.reshape(scores.shape[0], -1)) if scores.ndim > 1 else ~np.isfinite(scores)
    bad = int(np.nonzero(flat.any(axis=1) if flat.ndim > 1 else flat)[0][0])
    raise MetricError(f"{what} contain NaN or infinite values (first at sample {bad})")


class ChunkSorted:
    """Values sorted in independent chunks, in parallel threads (NumPy's sort releases the GIL).

    Counting values below a threshold only needs the sum of per-chunk ``searchsorted``
    results, so the chunks are never merged: sorting 10⁸ scores takes about half the time
    on two cores, and no index array is ever built. ``add`` appends more values as further
    chunks (a streamed evaluation adds one batch at a time).
    """

    def __init__(self, values: np.ndarray | None = None, *, inplace: bool = False, workers: int | None = None):
        self.chunks: list[np.ndarray] = []
        self.size = 0
        self.workers = workers or min(8, os.cpu_count() or 1)
        if values is not None:
            self.add(values, inplace=inplace)

    def add(self, values: np.ndarray, *, inplace: bool = False) -> None:
        """Sort ``values`` (a copy unless ``inplace``) into more chunks."""
        values = values.ravel() if inplace else values.ravel().copy()
        n_chunks = self.workers if values.size >= _PARALLEL_MIN else 1
        chunks = np.array_split(values, n_chunks)
        if n_chunks == 1:
            chunks[0].sort()
        else:
            with ThreadPoolExecutor(n_chunks) as pool:
                list(pool.map(np.ndarray.sort, chunks))
        self.chunks += chunks
        self.size += int(values.size)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.chunks)

    def count_less(self, thresholds: np.ndarray, side: str) -> np.ndarray:
        """How many values are < (side="left") or <= (side="right") each threshold."""
        total = np.zeros(np.shape(thresholds), dtype=np.int64)
        for chunk in self.chunks:
            total += np.searchsorted(chunk, thresholds, side=side)
        return total


_PARALLEL_MIN = 2_000_000


@dataclass
class SortedSplit:
    """Scores split by ground truth, ready for exact ranking metrics.

    ``pos_values``: distinct positive scores, descending, with ``pos_counts`` positives each.
    Negatives are only ever *counted* below a threshold. They are sorted either on their own
    (image level), or — when they are the vast majority, as pixels are — as "all scores
    minus positives", which spares the costly boolean extraction of the normal pixels.
    """

    pos_values: np.ndarray
    pos_counts: np.ndarray
    _all: Any  # ChunkSorted or adbench.metrics.radix.RadixCounts: size and count_less(thresholds, side)
    _pos_sorted: np.ndarray | None  # ascending positives, when _all holds every score
    _answers: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    @property
    def n_pos(self) -> int:
        return int(self.pos_counts.sum())

    @property
    def n_neg(self) -> int:
        return self._all.size - (0 if self._pos_sorted is None else self._pos_sorted.size)

    @classmethod
    def from_arrays(cls, neg: np.ndarray, pos: np.ndarray) -> "SortedSplit":
        _check_both(pos.size, neg.size)
        values, counts = np.unique(pos, return_counts=True)
        return cls(values[::-1].copy(), counts[::-1].copy(), ChunkSorted(neg), None)

    @classmethod
    def from_all(cls, scores: np.ndarray, positive: np.ndarray) -> "SortedSplit":
        """Build from every score and a boolean mask of the positives."""
        pos = scores[positive]
        _check_both(pos.size, scores.size - pos.size)
        values, counts = np.unique(pos, return_counts=True)
        return cls(values[::-1].copy(), counts[::-1].copy(), ChunkSorted(scores), np.sort(pos))

    def neg_less(self, thresholds: np.ndarray, side: str) -> np.ndarray:
        """Negatives below (``"left"``) or up to (``"right"``) each threshold. AUROC, AP,
        F1-max, the ROC and the PRO curve all ask at the same distinct positive scores, so
        the last answer per side is kept and counting happens once per side."""
        cached = self._answers.get(side)
        if cached is not None and np.array_equal(cached[0], thresholds):
            return cached[1].copy()
        n = self._all.count_less(thresholds, side)
        if self._pos_sorted is not None:
            n -= np.searchsorted(self._pos_sorted, thresholds, side=side)
        self._answers[side] = (np.array(thresholds, copy=True), n.copy())
        return n

    def neg_at_least(self, thresholds: np.ndarray) -> np.ndarray:
        """Number of negatives with score >= each threshold."""
        return self.n_neg - self.neg_less(thresholds, "left")

    def neg_above(self, thresholds: np.ndarray) -> np.ndarray:
        """Number of negatives with score > each threshold."""
        return self.n_neg - self.neg_less(thresholds, "right")

    # -- metrics ------------------------------------------------------------------
    def auroc(self) -> float:
        """P(pos > neg) + ½·P(pos = neg), the Mann–Whitney form of the ROC area."""
        below = self.neg_less(self.pos_values, "left")
        tied = self.neg_less(self.pos_values, "right") - below
        twice = int(np.dot(2 * below + tied, self.pos_counts.astype(np.int64)))
        return twice / (2.0 * self.n_pos * self.n_neg)

    def _tp_fp(self) -> tuple[np.ndarray, np.ndarray]:
        tp = np.cumsum(self.pos_counts, dtype=np.float64)
        fp = self.neg_at_least(self.pos_values).astype(np.float64)
        return tp, fp

    def average_precision(self) -> float:
        """Σ (Rₙ − Rₙ₋₁)·Pₙ over thresholds, as ``sklearn.metrics.average_precision_score``."""
        tp, fp = self._tp_fp()
        precision = tp / (tp + fp)
        recall_step = self.pos_counts / float(self.n_pos)
        return float(np.dot(recall_step, precision))

    def f1_max(self) -> tuple[float, float]:
        """Best F1 over all thresholds and the threshold (score ≥ t is anomalous) reaching it."""
        tp, fp = self._tp_fp()
        f1 = 2 * tp / (tp + fp + self.n_pos)
        best = int(np.argmax(f1))
        return float(f1[best]), float(self.pos_values[best])

    def counts_at(self, threshold: float) -> tuple[int, int]:
        """(true positives, false positives) when a score ≥ ``threshold`` is anomalous: the
        confusion counts of one operating point. The answer cache of the curve metrics is
        left alone."""
        t = np.asarray([threshold], dtype=np.float64)
        if self.pos_values.dtype == np.float32:  # ≥ t on float32 scores is ≥ the next float32 up
            t32 = t.astype(np.float32)
            t = np.where(t32.astype(np.float64) < t, np.nextafter(t32, np.float32(np.inf)), t32).astype(np.float64)
        tp = int(self.pos_counts[self.pos_values >= t[0]].sum())
        neg_below = self._all.count_less(t, "left")
        if self._pos_sorted is not None:
            neg_below = neg_below - np.searchsorted(self._pos_sorted, t, side="left")
        return tp, int(self.n_neg - neg_below[0])

    def roc_curve(self, max_points: int | None = 2000) -> tuple[np.ndarray, np.ndarray]:
        """(FPR, TPR) at every positive threshold, with the ends, thinned for plotting."""
        tp, _ = self._tp_fp()
        fpr = np.concatenate([[0.0], self.neg_above(self.pos_values) / self.n_neg,
                              self.neg_at_least(self.pos_values) / self.n_neg, [1.0]])
        tpr = np.concatenate([[0.0], np.concatenate([[0.0], tp[:-1]]) / self.n_pos, tp / self.n_pos, [1.0]])
        order = np.lexsort((tpr, fpr))
        return _thin(fpr[order], tpr[order], max_points)


def _check_both(n_pos: int, n_neg: int) -> None:
    if n_pos == 0:
        raise MetricError("metric undefined: the ground truth has no anomalous samples "
                          "(an all-normal test set has no AUROC)")
    if n_neg == 0:
        raise MetricError("metric undefined: the ground truth has no normal samples")


def _thin(x: np.ndarray, y: np.ndarray, max_points: int | None) -> tuple[np.ndarray, np.ndarray]:
    if max_points is None or x.size <= max_points:
        return x, y
    keep = np.unique(np.linspace(0, x.size - 1, max_points).round().astype(int))
    return x[keep], y[keep]


def split_scores(scores: Any, labels: Any) -> SortedSplit:
    s = as_numpy(scores).ravel()
    y = as_numpy(labels).ravel().astype(bool)
    if s.shape != y.shape:
        raise MetricError(f"scores ({s.size}) and labels ({y.size}) differ in length")
    check_finite(s)
    return SortedSplit.from_arrays(s[~y], s[y])


def image_auroc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve of image scores (label 1 = anomalous)."""
    return split_scores(scores, labels).auroc()


def image_ap(scores: Any, labels: Any) -> float:
    """Average precision of image scores, as scikit-learn defines it."""
    return split_scores(scores, labels).average_precision()


def image_f1max(scores: Any, labels: Any) -> float:
    """Best F1 over all thresholds of image scores."""
    return split_scores(scores, labels).f1_max()[0]


def image_f1max_threshold(scores: Any, labels: Any) -> tuple[float, float]:
    """(best F1, the threshold reaching it)."""
    return split_scores(scores, labels).f1_max()
