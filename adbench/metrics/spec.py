"""Metric specifications: every metric, built-in or from a plugin, is registered once as a
:class:`MetricSpec`; evaluation, tables, figures, the HTML and the LaTeX captions all iterate
the registry (docs/architecture.md, "Metrics")."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

LEVELS = ("image", "pixel")


@dataclass(frozen=True)
class MetricSpec:
    """One metric.

    ``fn(scores, labels)`` for ``level="image"`` (scores ``(N,)``, labels ``(N,)`` with 1 =
    anomalous), ``fn(maps, masks)`` for ``level="pixel"`` (``(N,H,W)`` each); it returns a
    float and raises :class:`~adbench.metrics.MetricError` when the metric is undefined
    (for example, one class only). ``definition`` is one sentence for captions.

    The streaming protocol: a cell's maps are fed image by image into one
    :class:`~adbench.metrics.PixelEvaluator` (``update``), and ``from_evaluator(ev)`` computes a
    pixel metric from it (``compute``). Only such metrics can be scored at native resolution,
    where no (N,H,W) array of all maps exists; a pixel metric without it is scored on the maps
    at the method's input size, and its row says so. (Image metrics need no stream: one score
    per image fits in memory.)

    The flags tell the reports what to do with the metric, so that no report names one
    (docs/architecture.md, "Metrics"):

    * ``per_defect``: also computed per defect type (that type's images against every normal
      one; pixel metrics at input size), in the row's ``per_defect`` and the per-defect tables;
    * ``bootstrap``: a 95 % interval over resampled test images in the row (``<name>_ci``) and
      the confidence-interval table. ``interval`` computes it (:mod:`adbench.metrics.bootstrap`
      has the fast AUROC one); without it, ``fn`` is re-evaluated on stratified resamples;
    * ``ranked``: ranked across cells (Friedman + Nemenyi) in the rankings table and the
      critical-difference diagram;
    * ``headline``: a column of the main table (``main.tex``, the one a paper ``\\input``s), and
      the score the figures plot against cost (Pareto, imbalance sweep: the first registered
      headline metric of a level);
    * ``curve``: the key under the row's ``curves`` whose area this metric is (a curve figure
      per category is drawn for each such metric).
    * ``per_image``: ``fn(maps, masks) -> values`` of each test image (NaN where undefined, e.g.
      AUPIMO of a normal image), stored in the row under ``per_image`` by image path; the
      per-image box plots and the paired tests between methods read them.
    * ``heatmap``: drawn as a method × category heatmap (default True, a plugin's metrics
      included); the operating-point and LOCO metrics of 2024 on opt out, so that every report
      does not draw a figure per metric (each heatmap costs a PNG and a PDF);
    * ``at_threshold``: a metric at one operating point, set on normal validation images only
      (:mod:`adbench.metrics.operating`): ``fn`` and ``from_evaluator`` take the threshold of
      the metric's level as a third (second) argument. Without validation images the value is
      null with that reason, never computed from test labels.
    """

    name: str
    title: str
    level: str
    higher_is_better: bool
    fn: Callable[[Any, Any], float]
    definition: str
    from_evaluator: Callable[[Any], float] | None = None
    per_defect: bool = False
    bootstrap: bool = False
    ranked: bool = False
    headline: bool = False
    curve: str | None = None
    interval: Callable[[Any], Any] | None = None
    per_image: Callable[[Any, Any], Any] | None = None
    at_threshold: bool = False
    heatmap: bool = True

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"metric name {self.name!r} must be a Python identifier (it becomes a column)")
        if self.level not in LEVELS:
            raise ValueError(f"metric {self.name!r}: level must be one of {LEVELS}, got {self.level!r}")
        if not callable(self.fn):
            raise ValueError(f"metric {self.name!r}: fn must be callable")
        if self.interval is not None and not self.bootstrap:
            raise ValueError(f"metric {self.name!r}: an interval function needs bootstrap=True")
        if self.at_threshold and (self.bootstrap or self.per_defect or self.per_image is not None):
            raise ValueError(f"metric {self.name!r}: a metric at a validation threshold has no bootstrap, "
                             f"per-defect or per-image form")


#: the FPR limit of ``au_pro``, the 2019–2021 protocol's; other limits are their own metrics
DEFAULT_AU_PRO_LIMIT = 0.3
#: MVTec AD 2's headline limit, the other registered one (``au_pro_005``)
AD2_AU_PRO_LIMIT = 0.05


def au_pro_name(limit: float) -> str:
    """The column of AU-PRO at ``limit``: ``au_pro`` at 0.3 (the established column), else
    ``au_pro_`` and the limit without its dot (0.05 → ``au_pro_005``, 0.1 → ``au_pro_01``, 1 → ``au_pro_1``)."""
    limit = check_au_pro_limit(limit)
    return "au_pro" if limit == DEFAULT_AU_PRO_LIMIT else "au_pro_" + f"{limit:g}".replace(".", "")


def check_au_pro_limit(limit: Any) -> float:
    """A FPR limit AU-PRO can integrate to: a number in [0.001, 1] with at most 3 decimals
    (so that its column name is unique), or ValueError naming the rule."""
    try:
        value = float(limit)
    except (TypeError, ValueError):
        raise ValueError(f"AU-PRO limit {limit!r} is not a number; use e.g. 0.05") from None
    if not 0.001 <= value <= 1 or round(value, 3) != value:
        raise ValueError(f"AU-PRO limit {limit!r}: use a FPR in [0.001, 1] with at most 3 decimals, e.g. 0.05")
    return value


def au_pro_spec(limit: float) -> MetricSpec:
    """AU-PRO integrated to the FPR ``limit`` (normalised by it): the same exact, streamed PRO
    curve at any limit (``adbench run --au-pro-limit``, or ``au_pro_limits`` of a data set)."""
    from . import au_pro

    limit = check_au_pro_limit(limit)
    extra = " (the headline localisation metric of MVTec AD 2)" if limit == AD2_AU_PRO_LIMIT else ""
    return MetricSpec(au_pro_name(limit), f"AU-PRO@{limit:g}", "pixel", True,
                      functools.partial(au_pro, fpr_limit=limit),
                      f"area under the per-region-overlap curve (8-connected regions) up to FPR {limit:g}, exact, "
                      f"divided by {limit:g} so that 1 is perfect{extra}",
                      from_evaluator=lambda ev: ev.au_pro(limit),
                      curve="pro" if limit == DEFAULT_AU_PRO_LIMIT else None,
                      headline=limit == DEFAULT_AU_PRO_LIMIT, heatmap=limit in (DEFAULT_AU_PRO_LIMIT, AD2_AU_PRO_LIMIT))


def metrics_of_rows(rows: Any) -> list[MetricSpec]:
    """The extra metric specs that rows were scored with (their ``au_pro_limits``), so that a
    report built from the rows alone shows them: ``rows`` is a DataFrame or a list of dicts."""
    if hasattr(rows, "columns"):
        column = list(rows["au_pro_limits"]) if "au_pro_limits" in rows.columns else []
    else:
        column = [r.get("au_pro_limits") for r in rows]
    limits = sorted({float(v) for lims in column if isinstance(lims, (list, tuple)) for v in lims})
    return [au_pro_spec(v) for v in limits]


def headline(specs: "list[MetricSpec] | tuple[MetricSpec, ...]", level: str = "image") -> "MetricSpec | None":
    """The first headline metric of ``level`` among ``specs`` (the score axis of cost figures)."""
    return next((s for s in specs if s.headline and s.level == level), None)


def builtin_metrics() -> tuple[MetricSpec, ...]:
    """The built-in metrics, in table order: the seven of the 2019–2021 protocol, then those of
    papers since 2024: AU-PRO at FPR 0.05, AUPIMO, PG5/PB5 and the metrics at the validation
    threshold."""
    from . import image_ap, image_auroc, image_f1max, pixel_ap, pixel_auroc, pixel_f1max
    from . import operating as op
    from . import spro
    from .bootstrap import image_auroc_interval, pixel_auroc_interval
    from .pimo import aupimo, aupimo_per_image

    at_val = ("at the threshold set on normal validation images only (@val: mean + 3 std of their "
              "scores, the MVTec AD 2 rule; score ≥ threshold is anomalous)")

    return (
        MetricSpec("image_auroc", "Image AUROC", "image", True, image_auroc,
                   "area under the ROC curve of the image scores, exact (ties count one half)",
                   per_defect=True, bootstrap=True, ranked=True, headline=True, curve="image_roc",
                   interval=image_auroc_interval),
        MetricSpec("image_ap", "Image AP", "image", True, image_ap,
                   "average precision of the image scores (step-wise, as scikit-learn defines it)"),
        MetricSpec("image_f1max", "Image F1-max", "image", True, image_f1max,
                   "best F1 over all thresholds of the image scores"),
        MetricSpec("pixel_auroc", "Pixel AUROC", "pixel", True, pixel_auroc,
                   "area under the ROC curve over all pixels of all test images, exact",
                   from_evaluator=lambda ev: ev.auroc(), per_defect=True, bootstrap=True, ranked=True,
                   headline=True, interval=pixel_auroc_interval),
        MetricSpec("pixel_ap", "Pixel AP", "pixel", True, pixel_ap,
                   "average precision over all pixels of all test images",
                   from_evaluator=lambda ev: ev.average_precision()),
        MetricSpec("pixel_f1max", "Pixel F1-max", "pixel", True, pixel_f1max,
                   "best F1 over all thresholds, over all pixels of all test images",
                   from_evaluator=lambda ev: ev.f1_max()),
        au_pro_spec(DEFAULT_AU_PRO_LIMIT),
        au_pro_spec(AD2_AU_PRO_LIMIT),
        MetricSpec("aupimo", "AUPIMO", "pixel", True, aupimo,
                   "mean over anomalous images of each image's TPR integrated against the normal images' shared "
                   "FPR (a mean of per-image FPRs) on a log axis from 1e-5 to 1e-4, normalised to [0, 1]; the "
                   "official computation (300,000 thresholds; Bertoldo et al. 2024), scored at each method's "
                   "input size", per_image=lambda m, g: aupimo_per_image(m, g)[0]),
        MetricSpec("au_spro", "AU-sPRO@0.05", "pixel", True, spro.au_spro_at_input_size,
                   "area under the saturated per-region-overlap curve up to FPR 0.05, divided by 0.05: a region is "
                   "one ground-truth channel with its own saturation area (defects_config.json); the mean over "
                   "logical and structural anomalies, each with every good image (MVTec LOCO's headline); exact, "
                   "at native resolution", from_evaluator=spro.attached_au_spro, heatmap=False),
        MetricSpec("pg5", "PG5", "image", True, op.presorted_good,
                   "presorted good: the share of normal test images scored below the 5 % quantile of the "
                   "anomalous ones (TNR at FNR 5 %; Baitieva et al. 2025)", heatmap=False),
        MetricSpec("pb5", "PB5", "image", True, op.presorted_bad,
                   "presorted bad: the share of anomalous test images scored above the 95 % quantile of the "
                   "normal ones (TPR at FPR 5 %; Baitieva et al. 2025)", heatmap=False),
        MetricSpec("image_f1_val", "Image F1@val", "image", True, op.image_f1_at,
                   f"F1 of the image decisions {at_val}", at_threshold=True, heatmap=False),
        MetricSpec("image_precision_val", "Image precision@val", "image", True,
                   op.image_precision_at, f"precision of the image decisions {at_val}; 0 when no image is "
                   "called anomalous", at_threshold=True, heatmap=False),
        MetricSpec("image_recall_val", "Image recall@val", "image", True, op.image_recall_at,
                   f"recall of the image decisions {at_val}", at_threshold=True, heatmap=False),
        MetricSpec("seg_f1", "SegF1", "pixel", True, op.seg_f1,
                   f"F1 of the binarised pixels, pooled over all pixels of all test images, {at_val} (the "
                   "segmentation metric of MVTec AD 2)", from_evaluator=lambda ev, t: op.seg_f1_of(ev.split, t),
                   at_threshold=True, heatmap=False),
    )


def legacy_spec(name: str, fn: Callable[[Any, Any], float], level: str = "image", plugin: str = "?") -> MetricSpec:
    """A spec for the older ``register(name, fn, level=...)`` form, so existing plugins keep working."""
    return MetricSpec(name, name, level, True, fn, f"registered by plugin {plugin!r} without a definition")
