"""AU-sPRO, the localisation metric of MVTec LOCO AD: exact and streamed (docs/architecture.md,
"AU-sPRO").

The definition is that of MVTec's LOCO evaluation code (``src/metrics.py``, ``src/image.py``,
``src/util.py``, ``evaluate_experiment.py``):

* a region is one ground-truth *channel* (one PNG of an image's ground-truth folder), not a
  connected component; its pixel value selects an entry of the category's
  ``defects_config.json``, which gives its saturation threshold, relative to the channel's
  area (``int(threshold · area)``) or absolute (``min(threshold, area)``);
* a pixel is positive if its score is > t (strict); sPRO of a channel is
  min(true-positive area / saturation area, 1), averaged over every channel of every image;
* the FPR counts the pixels that are defect-free in every channel of their image, pooled over
  all images;
* AU-sPRO is the area under (FPR, mean sPRO) up to an FPR limit, divided by the limit.

The official script samples thresholds until neighbouring curve points lie within
``curve_max_distance`` (0.01 by default). Here the curve is exact: a channel's sPRO rises by
1/s for each of its s highest-scored pixels and is flat after them, so only those pixels are
kept, and the curve has one vertex pair at each of their distinct scores, as the PRO curve of
:mod:`adbench.metrics.pixel` (strict or not, the vertices are the same points).
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

import numpy as np

from .pixel import PixelEvaluator, overlap_curve, trapezoid_to
from .ranking import MetricError, as_numpy

class Saturating(Protocol):
    """What a channel's defect entry must tell (``adbench.data.loco.DefectConfig``)."""

    defect_name: str

    def saturation_area(self, defect_area: int) -> int: ...


#: the FPR limits MVTec LOCO reports (``evaluate_experiment.py``, ``MAX_FPRS``); 0.05 is its headline
LOCO_LIMITS = (0.01, 0.05, 0.1, 0.3, 1.0)


class SproEvaluator:
    """The (FPR, mean sPRO) curve of a stream of images: ``update(map, channels)`` per image
    (channels: ``(mask, entry)`` pairs, the entry a :class:`adbench.data.loco.DefectConfig`, none for a good image), then :meth:`au_spro`."""

    def __init__(self) -> None:
        self._pixels = PixelEvaluator()  # every score, split by "defect in any channel"
        self._scores: list[np.ndarray] = []
        self._weights: list[np.ndarray] = []
        self.n_channels = 0
        self._curve: tuple[np.ndarray, np.ndarray] | None = None

    def update(self, anomaly_map: Any, channels: Sequence[tuple[Any, Saturating]] = ()) -> "SproEvaluator":
        m = as_numpy(anomaly_map)
        union = np.zeros(m.shape, bool)
        for mask, defect in channels:
            g = as_numpy(mask).astype(bool, copy=False)
            if g.shape != m.shape:
                raise MetricError(f"a ground-truth channel is {g.shape} but its anomaly map is {m.shape}")
            area = int(g.sum())
            saturation = defect.saturation_area(area)
            if saturation <= 0:
                raise MetricError(f"a {defect.defect_name!r} channel of area {area} saturates at area {saturation}: "
                                  f"its sPRO is undefined (defects_config.json)")
            top = np.sort(m[g])[::-1][:saturation]  # its sPRO rises only with these pixels
            self._scores.append(top)
            self._weights.append(np.full(top.size, 1.0 / saturation))
            self.n_channels += 1
            union |= g
        self._pixels.update([m], [union])
        self._curve = None
        return self

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(FPR, mean sPRO) vertices of the exact curve, from (0, 0) to (1, 1)."""
        if self._curve is not None:
            return self._curve
        if not self.n_channels:
            raise MetricError("metric undefined: no ground-truth channel (AU-sPRO needs anomalous images)")
        weights = np.concatenate(self._weights) / self.n_channels
        fpr, spro = overlap_curve(np.concatenate(self._scores), weights, self._pixels.split)
        self._curve = (fpr, spro)
        return self._curve

    def au_spro(self, limit: float = 0.05) -> float:
        """Area under the sPRO curve up to the FPR ``limit``, divided by it."""
        if not 0 < limit <= 1:
            raise MetricError(f"the FPR limit must be in (0, 1], got {limit}")
        fpr, spro = self.curve()
        return trapezoid_to(fpr, spro, limit) / limit


def au_spro_by_type(maps: Sequence[Any], channels: Sequence[Sequence[tuple[Any, Saturating]]],
                    types: Sequence[str], limits: Sequence[float] = LOCO_LIMITS) -> dict[str, dict[float, float]]:
    """MVTec LOCO's report: AU-sPRO of each anomaly type (its images with every good image),
    at each limit, and ``"mean"``, their average (``evaluate_experiment.py``). ``types[i]`` is
    ``"good"`` for a good image (no channels) or its anomaly type."""
    kinds = sorted({t for t in types if t != "good"})
    evaluators = {k: SproEvaluator() for k in kinds}
    for m, ch, t in zip(maps, channels, types):
        for k in (kinds if t == "good" else [t]):
            evaluators[k].update(m, ch)
    out = {k: {lim: ev.au_spro(lim) for lim in limits} for k, ev in evaluators.items()}
    if kinds:
        out["mean"] = {lim: float(np.mean([out[k][lim] for k in kinds])) for lim in limits}
    return out


#: why a run has no AU-sPRO
NO_CHANNELS = ("no ground-truth channels: AU-sPRO needs a data set whose anomalous images carry one mask per defect "
               "and a defects_config.json (MVTec LOCO, adapter mvtec_loco)")


def attached_au_spro(ev: Any, limit: float = 0.05) -> float:
    """AU-sPRO to ``limit`` of a native evaluator that carries per-type sPRO evaluators
    (``spro_by_type``, attached while the test maps were streamed): the mean over anomaly types,
    MVTec LOCO's headline."""
    by_type = getattr(ev, "spro_by_type", None)
    if not by_type:
        raise MetricError(NO_CHANNELS)
    return float(np.mean([e.au_spro(limit) for e in by_type.values()]))


def au_spro_at_input_size(maps: Any, masks: Any) -> float:
    """AU-sPRO cannot be scored on resized union masks: the channels and their saturation
    areas are defined at the original size."""
    raise MetricError("AU-sPRO is scored at native resolution only (its channels' saturation areas are defined on "
                      "the original masks); run with --eval-resolution native")
