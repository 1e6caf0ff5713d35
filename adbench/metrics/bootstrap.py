"""Bootstrap confidence intervals of image and pixel AUROC that resample *test images*.

AUROC is a sum over (positive, negative) pairs, so with per-image pair counts
``U[i, j]`` (positives of image i scored above negatives of image j, ties one half) a
resample that draws image i ``w_i`` times has AUROC ``wᵀUw / (Σ w_i P_i · Σ w_j N_j)``:
1,000 resamples are one matrix product, not 1,000 metric evaluations
(docs/architecture.md, "Confidence intervals"). Resampling is stratified by image label
(normal / anomalous images), so every resample has both classes.

Image AUROC's intervals are exact resamples. For pixel AUROC each image contributes at most
``per_class`` pixels of each class, drawn with a seeded generator, and its counts are scaled
to the image's full pixel counts: an unbiased estimate of ``U`` whose sampling noise is far
below the spread between images, at a cost that does not grow with the image size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: resamples per interval (issue: 1,000), the interval's level, and the pixels of each class
#: an image contributes to the pixel-level pair counts
RESAMPLES = 1000
LEVEL = 0.95
PIXELS_PER_CLASS = 1024


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def as_list(self) -> list[float]:
        return [self.low, self.high]


class PairSamples:
    """Per test image: a seeded sample of its positive and negative values, and the full counts
    those samples stand for. ``add`` once per image, in test order."""

    def __init__(self, per_class: int = PIXELS_PER_CLASS, seed: int = 0):
        self.per_class = per_class
        self.rng = np.random.default_rng(seed)
        self.pos: list[np.ndarray] = []
        self.neg: list[np.ndarray] = []
        self.n_pos: list[int] = []
        self.n_neg: list[int] = []

    def add(self, values: np.ndarray, positive: np.ndarray) -> None:
        """One image: its scores and a boolean mask of its positive (anomalous) entries."""
        v = np.asarray(values).reshape(-1)
        g = np.asarray(positive, dtype=bool).reshape(-1)
        pos = v[g]
        n_pos = int(pos.size)
        n_neg = int(v.size) - n_pos
        if n_pos > self.per_class:
            pos = pos[self.rng.integers(0, n_pos, self.per_class)]
        if n_neg <= self.per_class:
            neg = v[~g]
        else:  # draw positions of the whole image and keep the negative ones: O(per_class), no copy
            idx = self.rng.integers(0, v.size, 2 * self.per_class)
            neg = v[idx[~g[idx]]][: self.per_class]
        self.pos.append(np.sort(pos.astype(np.float64)))
        self.neg.append(np.sort(neg.astype(np.float64)))
        self.n_pos.append(n_pos)
        self.n_neg.append(n_neg)

    def pair_matrix(self) -> np.ndarray:
        """``U[i, j]``: expected pairs (positive of i, negative of j) ordered correctly, ties ½,
        scaled to the images' full counts."""
        n = len(self.pos)
        pos_ids = np.concatenate([np.full(p.size, i) for i, p in enumerate(self.pos)]) if n else np.zeros(0, int)
        pos_all = np.concatenate(self.pos) if n else np.zeros(0)
        pos_scale = np.array([P / p.size if p.size else 0.0 for P, p in zip(self.n_pos, self.pos)])
        u = np.zeros((n, n))
        for j, neg in enumerate(self.neg):
            if neg.size == 0 or pos_all.size == 0:
                continue
            below = np.searchsorted(neg, pos_all, side="left")
            at_most = np.searchsorted(neg, pos_all, side="right")
            won = np.bincount(pos_ids, weights=below + 0.5 * (at_most - below), minlength=n)
            u[:, j] = won * pos_scale * (self.n_neg[j] / neg.size)
        return u


def image_pairs(scores: np.ndarray, labels: np.ndarray) -> PairSamples:
    """Image AUROC as pair counts: each image is one value, positive if anomalous."""
    pairs = PairSamples(per_class=1)
    for s, y in zip(np.asarray(scores, dtype=np.float64), np.asarray(labels)):
        pairs.add(np.array([s]), np.array([bool(y)]))
    return pairs


def resample_weights(strata: np.ndarray, resamples: int = RESAMPLES, seed: int = 0) -> np.ndarray:
    """``(resamples, n)``: how often each of the n test images is drawn in each resample, drawn
    with replacement within each stratum (image label), so every resample keeps the class counts."""
    rng = np.random.default_rng(seed)
    strata = np.asarray(strata)
    w = np.zeros((resamples, len(strata)))
    for value in np.unique(strata):
        members = np.nonzero(strata == value)[0]
        w[:, members] = rng.multinomial(len(members), np.full(len(members), 1.0 / len(members)), size=resamples)
    return w


def bootstrap_auroc(pairs: PairSamples, strata: np.ndarray, resamples: int = RESAMPLES, level: float = LEVEL,
                    seed: int = 0) -> Interval | None:
    """Percentile interval of AUROC over ``resamples`` stratified resamples of the images;
    None when one class is absent."""
    u = pairs.pair_matrix()
    n_pos, n_neg = np.array(pairs.n_pos, float), np.array(pairs.n_neg, float)
    if n_pos.sum() == 0 or n_neg.sum() == 0:
        return None
    w = resample_weights(strata, resamples, seed)
    denom = (w @ n_pos) * (w @ n_neg)
    with np.errstate(invalid="ignore", divide="ignore"):
        auroc = np.einsum("bi,ij,bj->b", w, u, w) / denom
    return percentile_interval(auroc, level)


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> Interval | None:
    """The central ``level`` percentile interval of the finite ``values``; None when none is."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return Interval(float(low), float(high))


@dataclass
class IntervalInput:
    """What an interval function of a :class:`~adbench.metrics.MetricSpec` may read: the cell's
    image scores and labels, its maps and masks at input size (None without maps), the native
    pair samples when pixels were scored at native resolution, and the cell's seed."""

    scores: np.ndarray
    labels: np.ndarray
    maps: np.ndarray | None
    masks: np.ndarray
    pairs: PairSamples | None
    seed: int

    @property
    def has_pixels(self) -> bool:
        """Maps and at least one anomalous pixel: what a pixel metric's interval needs."""
        return self.maps is not None and bool(self.masks.any())


def image_auroc_interval(data: IntervalInput) -> Interval | None:
    """Image AUROC's interval: exact resamples of the image pair counts."""
    return bootstrap_auroc(image_pairs(data.scores, data.labels), data.labels, seed=data.seed)


def pixel_auroc_interval(data: IntervalInput) -> Interval | None:
    """Pixel AUROC's interval: the native pair samples, or the input-size maps sampled alike."""
    if not data.has_pixels:
        return None
    pairs = data.pairs
    if pairs is None:
        pairs = PairSamples(seed=data.seed)
        for m, g in zip(data.maps, data.masks):
            pairs.add(m, g)
    return bootstrap_auroc(pairs, data.labels, seed=data.seed)


def resampled_interval(fn: Any, level_of_metric: str, data: IntervalInput, resamples: int = RESAMPLES,
                       level: float = LEVEL) -> Interval | None:
    """Any metric's percentile interval: ``fn`` re-evaluated on the same stratified resamples
    of the test images as :func:`bootstrap_auroc` draws (:func:`resample_weights`; image
    metrics on the scores, pixel metrics on the input-size maps); None where the metric is
    undefined on every resample."""
    from .ranking import MetricError

    if level_of_metric == "pixel" and not data.has_pixels:
        return None
    labels = np.asarray(data.labels)
    images = np.arange(len(labels))
    values = []
    for w in resample_weights(labels, resamples, data.seed).astype(int):
        idx = np.repeat(images, w)
        try:
            if level_of_metric == "pixel":
                v = fn(data.maps[idx], data.masks[idx])
            else:
                v = fn(data.scores[idx], labels[idx])
        except MetricError:
            continue
        values.append(float(v))
    return percentile_interval(np.asarray(values), level)
