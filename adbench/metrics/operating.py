"""Metrics at one operating point (docs/metrics.md, "Operating-point metrics").

A deployed detector needs a threshold, not an area under a curve. Two kinds live here:

* metrics at a threshold chosen **without any test label**, from normal validation images only,
  by the MVTec AD 2 rule (:func:`validation_threshold`): image F1, precision and recall, and
  the pixel SegF1 of MVTec AD 2;
* PGn and PBn (Baitieva et al., CVPR-W 2025, arXiv 2503.23451): the share of good images
  presorted out while at most n % of the bad ones are missed, and the reverse. Their operating
  point is set on the test labels by definition (a fixed FNR or FPR), as in anomalib's
  ``metrics/pg_pb.py``.

A score ≥ the threshold is anomalous, as for F1-max and AUPIMO.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .ranking import MetricError, SortedSplit, as_numpy, check_finite, split_scores

#: MVTec AD 2's SegF1 binarises the anomaly maps at the mean plus three standard deviations of
#: the scores of the (defect-free) validation images: the rule of the data set's baselines
#: (Heckler-Kram et al. 2025, arXiv 2503.21622), "mean+3std" as RoBiS (arXiv 2505.21152, abstract)
#: restates it. docs/metrics.md says what could not be checked against the paper's own text.
SIGMAS = 3.0
#: PGn / PBn: n as a rate (anomalib's default, ``metrics/pg_pb.py``: 5 %)
PRESORT_RATE = 0.05


class Moments:
    """Count, mean and variance of a stream of score arrays, in float64, merged chunk by chunk
    (Chan et al.'s parallel update), so validation maps at native size are never held at once."""

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self._m2 = 0.0

    def add(self, values: Any) -> "Moments":
        v = as_numpy(values).astype(np.float64, copy=False).ravel()
        if v.size == 0:
            return self
        check_finite(v, "validation scores")
        n_b, mean_b = v.size, float(v.mean())
        m2_b = float(np.square(v - mean_b).sum())
        n = self.n + n_b
        delta = mean_b - self.mean
        self._m2 += m2_b + delta * delta * self.n * n_b / n
        self.mean += delta * n_b / n
        self.n = n
        return self

    @property
    def std(self) -> float:
        """Population standard deviation (ddof 0)."""
        return float(np.sqrt(self._m2 / self.n)) if self.n else float("nan")

    def threshold(self) -> float:
        """The MVTec AD 2 threshold of the scores added: mean + 3 · std."""
        if self.n == 0:
            raise MetricError("no validation scores: a threshold needs normal validation images")
        return self.mean + SIGMAS * self.std


def validation_threshold(values: Iterable[Any] | Any) -> float:
    """The MVTec AD 2 threshold: mean + 3 · std (population) of every validation score given
    (one array of image scores, or an iterable of maps)."""
    m = Moments()
    for chunk in (values if isinstance(values, (list, tuple)) else [values]):
        m.add(chunk)
    return m.threshold()


def _f1(tp: int, fp: int, n_pos: int) -> float:
    return 2.0 * tp / (tp + fp + n_pos) if tp + fp + n_pos else 0.0


def _counts(split: SortedSplit, threshold: float) -> tuple[int, int, int]:
    tp, fp = split.counts_at(threshold)
    return tp, fp, split.n_pos


def image_f1_at(scores: Any, labels: Any, threshold: float) -> float:
    """F1 of the image decisions score ≥ ``threshold``."""
    return _f1(*_counts(split_scores(scores, labels), threshold))


def image_precision_at(scores: Any, labels: Any, threshold: float) -> float:
    """Precision of the image decisions; 0 when no image is called anomalous (scikit-learn's
    ``zero_division=0``)."""
    tp, fp, _ = _counts(split_scores(scores, labels), threshold)
    return tp / (tp + fp) if tp + fp else 0.0


def image_recall_at(scores: Any, labels: Any, threshold: float) -> float:
    """Recall (TPR) of the image decisions."""
    tp, _, n_pos = _counts(split_scores(scores, labels), threshold)
    return tp / n_pos


def seg_f1_of(split: SortedSplit, threshold: float) -> float:
    """SegF1 of MVTec AD 2: the F1 of the binarised pixels, pooled over every pixel of every
    test image (good images included: their positives are false positives)."""
    return _f1(*_counts(split, threshold))


def seg_f1(maps: Any, masks: Any, threshold: float) -> float:
    """SegF1 of maps held in memory (see :func:`seg_f1_of`)."""
    from .pixel import PixelEvaluator

    return seg_f1_of(PixelEvaluator.shared(maps, masks).split, threshold)


def _rate(rate: float) -> float:
    if not 0 <= rate <= 1:
        raise MetricError(f"a PGn/PBn rate must lie in [0, 1], got {rate}")
    return rate


def _sides(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    s = as_numpy(scores).astype(np.float64).ravel()
    y = as_numpy(labels).ravel().astype(bool)
    if s.shape != y.shape:
        raise MetricError(f"scores ({s.size}) and labels ({y.size}) differ in length")
    check_finite(s)
    if not y.any():
        raise MetricError("metric undefined: the ground truth has no anomalous samples")
    if y.all():
        raise MetricError("metric undefined: the ground truth has no normal samples")
    return s[~y], s[y]


def presorted_good(scores: Any, labels: Any, fnr: float = PRESORT_RATE) -> float:
    """PGn: the share of normal images scored below the ``fnr`` quantile (linear
    interpolation) of the anomalous scores, i.e. TNR at FNR n (a strict ``<``, as anomalib)."""
    neg, pos = _sides(scores, labels)
    accept = np.quantile(pos, _rate(fnr))
    return float(np.count_nonzero(neg < accept) / neg.size)


def presorted_bad(scores: Any, labels: Any, fpr: float = PRESORT_RATE) -> float:
    """PBn: the share of anomalous images scored above the ``1 − fpr`` quantile of the normal
    scores, i.e. TPR at FPR n (a strict ``>``, as anomalib)."""
    neg, pos = _sides(scores, labels)
    reject = np.quantile(neg, 1 - _rate(fpr))
    return float(np.count_nonzero(pos > reject) / pos.size)
