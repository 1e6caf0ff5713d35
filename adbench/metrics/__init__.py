"""Public metric API: numpy arrays or torch tensors in, Python floats out."""

from .pixel import PixelEvaluator, au_pro, pixel_ap, pixel_auroc, pixel_f1max, pixel_metrics, trapezoid_to
from .ranking import (MetricError, SortedSplit, check_finite, image_ap, image_auroc, image_f1max,
                      image_f1max_threshold, split_scores)

__all__ = ["MetricError", "PixelEvaluator", "SortedSplit", "au_pro", "check_finite", "image_ap",
           "image_auroc", "image_f1max", "image_f1max_threshold", "pixel_ap", "pixel_auroc",
           "pixel_f1max", "pixel_metrics", "split_scores", "trapezoid_to"]
from .spec import MetricSpec, builtin_metrics  # noqa: E402

__all__ += ["MetricSpec", "builtin_metrics"]
