"""Run a fitted model over a test split and score it: the "predict → metrics" half of a cell."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .. import registry
from ..data.loading import SplitTensors
from ..data.sample import Sample, image_size
from ..io import write_atomic
from ..method import AnomalyOutput
from ..metrics import MetricError, PixelEvaluator, split_scores
from ..data.loco import read_channels, read_defects_config
from ..metrics.operating import Moments, validation_threshold
from ..metrics.spro import LOCO_LIMITS, SproEvaluator
from ..metrics.bootstrap import LEVEL, PIXELS_PER_CLASS, RESAMPLES, IntervalInput, PairSamples, resampled_interval



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
    return _attempt(fn, *args)[0]


def _attempt(fn: Any, *args: Any) -> tuple[float | None, str | None]:
    """The metric's value, or None and the reason it is undefined."""
    try:
        return float(fn(*args)), None
    except MetricError as exc:
        return None, str(exc)


@dataclass(frozen=True)
class Thresholds:
    """The operating point of the ``at_threshold`` metrics, one per level, set on normal
    validation images (:func:`validation_thresholds`); ``missing`` says why a level has none."""

    image: float | None = None
    pixel: float | None = None
    missing: str = "no normal validation images"

    def of(self, level: str) -> float | None:
        return self.image if level == "image" else self.pixel


def metric_values(scores: np.ndarray, labels: np.ndarray, maps: np.ndarray | None, masks: np.ndarray,
                  native: PixelEvaluator | None = None, thresholds: Thresholds = Thresholds(),
                  ) -> tuple[dict[str, float | None], dict[str, str], dict[str, str]]:
    """Every registered metric, the resolution each pixel metric was scored at, and why each
    null value is null.

    Image metrics come from the scores. Pixel metrics need maps and anomalous pixels (else
    None): with a ``native`` evaluator, those that can read it (``MetricSpec.from_evaluator``)
    are scored at native resolution, the others on the input-size ``maps`` and ``masks``.
    Metrics ``at_threshold`` take the level's validation threshold; without one they are
    null, never set on the test labels."""
    out: dict[str, float | None] = {}
    where: dict[str, str] = {}
    why: dict[str, str] = {}
    has_pixels = maps is not None and bool(masks.any())
    for spec in registry.metrics():
        extra: tuple[Any, ...] = ()
        if spec.at_threshold:
            t = thresholds.of(spec.level)
            if t is None:
                out[spec.name], why[spec.name] = None, thresholds.missing
                continue
            extra = (t,)
        if spec.level != "pixel":
            out[spec.name], reason = _attempt(spec.fn, scores, labels, *extra)
        elif not has_pixels:
            out[spec.name], reason = None, ("the method emits no anomaly maps" if maps is None
                                            else "no anomalous pixel in the test masks")
        elif native is not None and spec.from_evaluator is not None:
            out[spec.name], reason = _attempt(spec.from_evaluator, native, *extra)
            where[spec.name] = "native"
        else:
            out[spec.name], reason = _attempt(spec.fn, maps, masks, *extra)
            where[spec.name] = "input"
        if reason is not None:
            why[spec.name] = reason
    return out, where, why


def native_maps(maps: np.ndarray, samples: Sequence[Sample]) -> Iterator[np.ndarray]:
    """Each image's map upsampled (bilinear) to that image's own size, float32, one at a time."""
    for m, sample in zip(maps, samples):
        w, h = image_size(sample.path)
        if m.shape != (h, w):
            m = F.interpolate(torch.from_numpy(np.ascontiguousarray(m))[None, None], size=(h, w), mode="bilinear",
                              align_corners=False)[0, 0].numpy()
        yield m.astype(np.float32, copy=False)


def validation_thresholds(pred: Predictions | None, samples: Sequence[Sample], *, native: bool,
                          missing: str) -> Thresholds:
    """The operating point of each level from the normal validation images' predictions
    (:func:`adbench.metrics.operating.validation_threshold`): image scores, and every pixel of
    the maps at the resolution the test maps are scored at. ``missing``: why there is none."""
    if pred is None:
        return Thresholds(missing=missing)
    image = validation_threshold(pred.scores)
    if pred.maps is None:
        return Thresholds(image=image, missing="the method emits no anomaly maps")
    pixels = Moments()
    for m in (native_maps(pred.maps, samples) if native else pred.maps):
        pixels.add(m)
    return Thresholds(image=image, pixel=pixels.threshold(), missing=missing)


def native_evaluator(maps: np.ndarray, samples: Sequence[Sample], save_to: Path | None = None,
                     pairs: PairSamples | None = None) -> PixelEvaluator:
    """Each test image's map upsampled (bilinear) to its own original size and streamed into
    a :class:`PixelEvaluator` with its original mask: no mask is ever resized. With
    ``save_to``, every upsampled map is kept there as float16 (one ``.npz``, key = image index);
    with ``pairs``, each native map also feeds the bootstrap's pair samples."""
    ev = PixelEvaluator()
    kept: dict[str, np.ndarray] = {}
    spro = ChannelStream(samples)
    for i, (sample, m) in enumerate(zip(samples, native_maps(maps, samples))):
        mask = sample.load_mask(m.shape, warn=False)  # a mask of another size raises, naming both files
        ev.update([m], [mask])
        spro.update(sample, m)
        if pairs is not None:
            pairs.add(m, mask)
        if save_to is not None:
            kept[f"map_{i:05d}"] = m.astype(np.float16)
    if save_to is not None:
        paths = np.array([str(s.path) for s in samples])
        write_atomic(save_to, lambda fh: np.savez_compressed(fh, paths=paths, **kept))
    if spro.by_type:
        ev.spro_by_type = spro.by_type  # type: ignore[attr-defined]  (read by metrics.spro.attached_au_spro)
    return ev


class ChannelStream:
    """The sPRO evaluators of a test set whose anomalous images carry ground-truth channels
    (MVTec LOCO): one per anomaly type, each fed its own images and every good image."""

    def __init__(self, samples: Sequence[Sample]):
        self.by_type = {t: SproEvaluator() for t in sorted({s.defect_type for s in samples
                                                            if s.label == 1 and s.defects_config is not None})}
        self._configs: dict[Path, Any] = {}

    def update(self, sample: Sample, native_map: np.ndarray) -> None:
        if not self.by_type:
            return
        if sample.label == 0:
            for ev in self.by_type.values():
                ev.update(native_map)
            return
        if sample.defects_config is None or sample.defect_type not in self.by_type:
            return
        if sample.defects_config not in self._configs:
            self._configs[sample.defects_config] = read_defects_config(sample.defects_config)
        channels = read_channels(sample.mask_path, self._configs[sample.defects_config])
        self.by_type[sample.defect_type].update(native_map, channels)


def au_spro_table(by_type: dict[str, SproEvaluator]) -> dict[str, dict[str, float | None]]:
    """MVTec LOCO's full report: AU-sPRO of each anomaly type (with every good image) and of
    their mean, at each of LOCO's five FPR limits (keys are the limits as text, for JSON)."""
    out = {kind: {f"{lim:g}": _safe(ev.au_spro, lim) for lim in LOCO_LIMITS} for kind, ev in by_type.items()}
    kinds = list(out.values())
    out["mean"] = {key: (None if any(k[key] is None for k in kinds) else float(np.mean([k[key] for k in kinds])))
                   for key in kinds[0]}
    return out


def score(pred: Predictions, test: SplitTensors, curve_points: int = 200, *,
          native: PixelEvaluator | None = None, native_pairs: PairSamples | None = None,
          seed: int = 0, thresholds: Thresholds = Thresholds()) -> dict[str, Any]:
    """Every registered metric, the per-defect breakdown, the F1-max threshold and thinned
    ROC/PRO curves (under ``curves``) for the report's figures. With a ``native`` evaluator
    (:func:`native_evaluator`) the pixel metrics and the PRO curve are those of the original
    masks; the per-defect pixel AUROC stays at the input size (``per_defect_resolution``)."""
    labels = test.labels.numpy()
    masks = test.masks.numpy()
    with PixelEvaluator.sharing():
        out = _score(pred, labels, masks, test.defect_types, curve_points, native, thresholds)
    out["per_image"] = per_image_values(pred, masks, [str(p) for p in test.paths])
    out.update(confidence_intervals(pred, labels, masks, native_pairs if native is not None else None, seed))
    return out


def per_image_values(pred: Predictions, masks: np.ndarray, paths: list[str]) -> dict[str, dict[str, float | None]]:
    """Every metric with a ``per_image`` function: each test image's value by its path (None
    where undefined), on the maps at the method's input size; {} for a metric it cannot score."""
    out: dict[str, dict[str, float | None]] = {}
    if pred.maps is None or not masks.any():
        return out
    for spec in registry.metrics():
        if spec.per_image is None or spec.level != "pixel":
            continue
        try:
            values = np.asarray(spec.per_image(pred.maps, masks), dtype=float)
        except MetricError:
            continue  # the metric's own value says why (null with its reason)
        out[spec.name] = {p: (float(v) if np.isfinite(v) else None) for p, v in zip(paths, values)}
    return out


def confidence_intervals(pred: Predictions, labels: np.ndarray, masks: np.ndarray, pairs: PairSamples | None,
                         seed: int) -> dict[str, Any]:
    """``<metric>_ci`` ([low, high], None where undefined) of every metric flagged ``bootstrap``:
    stratified bootstrap over the test images (:mod:`adbench.metrics.bootstrap`), and how they
    were made."""
    data = IntervalInput(pred.scores, labels, pred.maps, masks, pairs, seed)
    out: dict[str, Any] = {}
    for spec in registry.metrics():
        if not spec.bootstrap:
            continue
        if spec.interval is not None:
            interval = spec.interval(data)
        else:
            interval = resampled_interval(spec.fn, spec.level, data)
        out[f"{spec.name}_ci"] = interval.as_list() if interval else None
    out["bootstrap"] = {"resamples": RESAMPLES, "level": LEVEL, "seed": seed, "resample": "test images, "
                        "stratified by label", "pixels_per_class_per_image": PIXELS_PER_CLASS}
    return out


def per_defect_values(pred: Predictions, labels: np.ndarray, masks: np.ndarray, defect_types: list[str],
                      pixels: bool) -> dict[str, dict[str, float | None]]:
    """Every metric flagged ``per_defect``, per defect type: that type's test images against
    every normal one (pixel metrics on the input-size maps, and only when ``pixels``)."""
    specs = [s for s in registry.metrics() if s.per_defect and (s.level == "image" or pixels)]
    out = {}
    good = labels == 0
    for defect in sorted({d for d, y in zip(defect_types, labels) if y == 1}):
        sel = good | np.array([d == defect for d in defect_types])
        maps = pred.maps[sel] if pixels else None
        sub_masks = masks[sel]
        out[defect] = {spec.name: (_safe(spec.fn, pred.scores[sel], labels[sel]) if spec.level == "image"
                                   else _safe(spec.fn, maps, sub_masks)) for spec in specs}
    return out


def _score(pred: Predictions, labels: np.ndarray, masks: np.ndarray, defect_types: list[str],
           curve_points: int, native: PixelEvaluator | None, thresholds: Thresholds) -> dict[str, Any]:
    values, where, why = metric_values(pred.scores, labels, pred.maps, masks, native, thresholds)
    out: dict[str, Any] = dict(values)
    if where:
        out["metric_resolutions"] = where
    if why:
        out["metric_null_reasons"] = why
    split = split_scores(pred.scores, labels)
    out.update(image_f1max_threshold=split.f1_max()[1], n_test=int(len(labels)),
               n_test_anomalous=int(labels.sum()))
    has_pixels = pred.maps is not None and bool(masks.any())
    ev = PixelEvaluator.shared(pred.maps, masks) if has_pixels else None
    scored = native if native is not None else ev  # the pixels the pixel metrics were scored on
    if pred.maps is not None:
        out.update(eval_resolution="native" if native is not None else "input",
                   eval_pixels=scored.n_pixels if scored is not None else int(pred.maps.size))
    if scored is not None:
        out["eval_regions"] = scored.n_regions
    if getattr(native, "spro_by_type", None):
        out["au_spro_by_type"] = au_spro_table(native.spro_by_type)
    per_defect = per_defect_values(pred, labels, masks, defect_types, pixels=ev is not None)
    out["per_defect"] = per_defect
    if ev is not None:
        out["per_defect_resolution"] = "input"
    fpr, tpr = split.roc_curve(curve_points)
    out["curves"] = {"image_roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist()}}
    if scored is not None and has_pixels:
        try:
            f, p = scored.pro_curve(curve_points)
            out["curves"]["pro"] = {"fpr": f.tolist(), "pro": p.tolist()}
        except MetricError:
            pass
    return out
