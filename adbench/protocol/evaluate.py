"""Run a fitted model over a test split and score it: the "predict → metrics" half of a cell."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..data.loading import SplitTensors
from ..method import AnomalyOutput
from ..metrics import MetricError, PixelEvaluator, split_scores
from .. import registry



@dataclass
class Predictions:
    scores: np.ndarray  # (N,) float64
    maps: np.ndarray | None  # (N,S,S) float32 at the evaluation size
    wall_s: float


class MethodOutputError(RuntimeError):
    """A method returned something the contract forbids; the message names method and sample."""


@torch.inference_mode()
def predict(model: torch.nn.Module, test: SplitTensors, *, method: str, device: str,
            batch_size: int = 16) -> Predictions:
    """Scores and maps for every test image, checked for shape and finiteness."""
    model.eval().to(device)
    size = test.images.shape[-1]
    scores, maps = [], []
    start = time.perf_counter()
    for lo in range(0, len(test), batch_size):
        x = test.images[lo : lo + batch_size].to(device).float().div_(255.0)
        out = model(x)
        if not isinstance(out, tuple):
            raise MethodOutputError(f"method {method!r}: model() must return AnomalyOutput, got {type(out).__name__}")
        out = AnomalyOutput(*out)
        if not isinstance(out.image_scores, torch.Tensor) or out.image_scores.numel() != x.shape[0] \
                or out.image_scores.ndim > 2:
            shape = tuple(getattr(out.image_scores, "shape", ()))
            raise MethodOutputError(f"method {method!r}: image_scores must be a tensor of shape ({x.shape[0]},) "
                                    f"for a batch of {x.shape[0]}, got {type(out.image_scores).__name__} {shape}")
        s = out.image_scores.reshape(-1).float().cpu().numpy()
        if s.shape[0] != x.shape[0]:
            raise MethodOutputError(f"method {method!r}: {s.shape[0]} image scores for a batch of {x.shape[0]}")
        for j in np.nonzero(~np.isfinite(s))[0]:
            raise MethodOutputError(f"method {method!r} produced a non-finite score ({s[j]}) for "
                                    f"test image {test.paths[lo + j]}")
        scores.append(s.astype(np.float64))
        if out.anomaly_maps is not None:
            m = _checked_maps(out.anomaly_maps, x.shape[0], method)
            if m.shape[-2:] != (size, size):  # evaluate at the input resolution
                m = F.interpolate(m[:, None], size=(size, size), mode="bilinear", align_corners=False)[:, 0]
            m = m.cpu().numpy()
            bad = ~np.isfinite(m.reshape(len(m), -1)).all(axis=1)
            for j in np.nonzero(bad)[0]:
                raise MethodOutputError(f"method {method!r} produced a non-finite anomaly map for "
                                        f"test image {test.paths[lo + j]}")
            maps.append(m)
    return Predictions(np.concatenate(scores), np.concatenate(maps) if maps else None,
                       time.perf_counter() - start)


def _checked_maps(maps: Any, batch: int, method: str) -> torch.Tensor:
    """The maps as float ``(B,H,W)``; anything but the documented ``(B,H,W)`` or ``(B,1,H,W)``
    with square maps, one per image, is a contract error naming the method."""
    if not isinstance(maps, torch.Tensor):
        raise MethodOutputError(f"method {method!r}: anomaly_maps must be a tensor or None, got "
                                f"{type(maps).__name__}")
    shape = tuple(maps.shape)
    if maps.ndim == 4 and shape[1] == 1:
        maps = maps[:, 0]
    if maps.ndim != 3 or maps.shape[1] != maps.shape[2] or maps.shape[1] < 1:
        raise MethodOutputError(f"method {method!r}: anomaly_maps has shape {shape}; the contract is (B,H,W) or "
                                f"(B,1,H,W) with square maps (H == W)")
    if maps.shape[0] != batch:
        raise MethodOutputError(f"method {method!r}: {maps.shape[0]} anomaly maps for a batch of {batch} images")
    return maps.float()


def _safe(fn: Any, *args: Any) -> float | None:
    try:
        return float(fn(*args))
    except MetricError:
        return None


def metric_values(scores: np.ndarray, labels: np.ndarray, maps: np.ndarray | None,
                  masks: np.ndarray) -> dict[str, float | None]:
    """Every registered metric: image metrics on the scores; pixel metrics on the maps when
    the method has maps and the test set has anomalous pixels (else None). An undefined
    metric (one class only) is None."""
    out: dict[str, float | None] = {}
    has_pixels = maps is not None and bool(masks.any())
    for spec in registry.metrics():
        if spec.level == "pixel":
            out[spec.name] = _safe(spec.fn, maps, masks) if has_pixels else None
        else:
            out[spec.name] = _safe(spec.fn, scores, labels)
    return out


def score(pred: Predictions, test: SplitTensors, curve_points: int = 200) -> dict[str, Any]:
    """Every registered metric, the per-defect breakdown, the F1-max threshold and thinned
    ROC/PRO curves (under ``curves``) for the report's figures."""
    labels = test.labels.numpy()
    masks = test.masks.numpy()
    with PixelEvaluator.sharing():
        return _score(pred, labels, masks, test.defect_types, curve_points)


def _score(pred: Predictions, labels: np.ndarray, masks: np.ndarray, defect_types: list[str],
           curve_points: int) -> dict[str, Any]:
    out: dict[str, Any] = metric_values(pred.scores, labels, pred.maps, masks)
    split = split_scores(pred.scores, labels)
    out.update(image_f1max_threshold=split.f1_max()[1], n_test=int(len(labels)),
               n_test_anomalous=int(labels.sum()))
    ev = PixelEvaluator.shared(pred.maps, masks) if pred.maps is not None and masks.any() else None
    per_defect = {}
    good = labels == 0
    for defect in sorted({d for d, y in zip(defect_types, labels) if y == 1}):
        sel = good | np.array([d == defect for d in defect_types])
        entry = {"image_auroc": _safe(lambda: split_scores(pred.scores[sel], labels[sel]).auroc())}
        if ev is not None:
            entry["pixel_auroc"] = _safe(lambda: PixelEvaluator(pred.maps[sel], masks[sel]).auroc())
        per_defect[defect] = entry
    out["per_defect"] = per_defect
    fpr, tpr = split.roc_curve(curve_points)
    out["curves"] = {"image_roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist()}}
    if ev is not None:
        f, p = ev.pro_curve(curve_points)
        out["curves"]["pro"] = {"fpr": f.tolist(), "pro": p.tolist()}
    return out
