"""The cell runner: data → fit → predict → metrics → costs → one atomic row
(docs/architecture.md, "Flow").

Any exception inside a cell becomes an error row with its traceback; it never stops the
other cells. That includes ``SystemExit`` and ``KeyboardInterrupt`` raised by plugin code;
only a real Ctrl-C (:mod:`adbench.interrupts`) stops the run: the cell being run writes
nothing, the finished rows stay, and the next run resumes. Each cell runs with a seeded data order
(and, on CUDA, torch's deterministic algorithms), so the same command gives the same numbers
(docs/architecture.md, "Reproducibility").
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
from typing import Any

from .. import interrupts, registry, weights
from ..config import dataset_spec
from ..costs.fields import PROFILE_ENV_KEYS, PROFILE_KEYS
from ..data.adapters import DatasetAdapter, missing_classes
from ..data.sample import DatasetError
from ..data.loading import load_samples
from ..io import write_atomic, write_json_atomic
from ..metrics.bootstrap import PairSamples
from ..method import Method, MethodConfig, RunContext, TrainData
from ..plugins import pm
from ..results.store import ResultStore
from ..training import seed_everything, time_limit
from ..provenance import provenance
from ..published import published_for
from ..determinism import deterministic
from ..metrics.spec import metrics_of_rows
from .cells import Cell, RunSpec
from .evaluate import native_evaluator, predict, score, validation_thresholds
from .splits import (Split, supervised_split, unsupervised_split, with_contamination, with_train_shots,
                     with_validation)


def build_split(adapter: DatasetAdapter, cell: Cell) -> Split:
    train = adapter.samples(cell.category, "train")
    test = adapter.samples(cell.category, "test")
    if cell.track == "supervised":
        split = supervised_split(train, test, seed=cell.seed, category=cell.category,
                                 k=cell.k_anomalies, ratio=cell.anomaly_ratio)
    else:
        split = unsupervised_split(train, test)
    split = with_validation(split, adapter.validation(cell.category), fraction=cell.validation_fraction,
                            seed=cell.seed, category=cell.category)
    split = with_train_shots(split, cell.train_shots, seed=cell.seed, category=cell.category)
    split = with_contamination(split, cell.contamination, seed=cell.seed, category=cell.category)
    for kind in missing_classes(split.test):  # fail before any training, naming category and folder
        raise DatasetError(f"data set {cell.dataset!r}, category {cell.category!r}: the test split under "
                           f"{adapter.category_dir(cell.category)} holds no {kind} image, so no ranking metric is "
                           f"defined; add {kind} test images (or check the layout with `adbench data check`)")
    return split


def no_validation_reason(cell: Cell) -> str:
    """Why a cell has no validation threshold, with the fix."""
    return (f"no normal validation images: data set {cell.dataset!r} declares no validation/good split; run with "
            f"--validation-fraction F to hold out a fraction of train/good")


#: the time guard of a cell when ``--cell-timeout`` is not given, per profile: far above what
#: a cell of that profile needs on two CPU cores (docs/benchmarks.md); ``paper`` has none
DEFAULT_CELL_TIMEOUT_S: dict[str, float | None] = {"smoke": 600.0, "quick": 1800.0, "paper": None}


#: maps kept per cell for the report's qualitative figures: the k highest- and k lowest-scored
#: anomalies and k normal images
SAVED_EXAMPLES = 4


def run_cell(cell: Cell, spec: RunSpec) -> dict[str, Any]:
    """Run one cell and write its row (status "ok" or "error") into ``spec.run_dir``; returns the row.

    ``spec.cell_timeout`` (default: :data:`DEFAULT_CELL_TIMEOUT_S` of the cell's profile) is a
    guard: a cell that passes it gets an error row, never a shorter training.
    ``spec.cost_threads``: the intra-op threads costs are measured with (default: this process's).
    """
    entry = registry.methods().get(cell.method)
    device, store = spec.device, ResultStore(spec.run_dir)
    row = base_row(cell, device)
    limit = spec.cell_timeout if spec.cell_timeout is not None else DEFAULT_CELL_TIMEOUT_S.get(cell.profile)
    row["cell_timeout_s"] = limit
    start = time.perf_counter()
    try:
        with time_limit(limit), deterministic(device) as nondeterministic, \
                registry.extra_metrics(metrics_of_rows([row])):  # the AU-PRO limits of the cell's definition
            row.update(_run(cell, entry.obj, spec, store))
        row["deterministic_algorithms"] = device.startswith("cuda")
        row["nondeterministic_ops"] = sorted(nondeterministic)
        row["status"] = "ok"
    except BaseException as exc:  # one failing cell must never cost the others their rows
        real_interrupt = isinstance(exc, KeyboardInterrupt) and interrupts.received()
        if real_interrupt or not isinstance(exc, (Exception, SystemExit, KeyboardInterrupt)):
            raise  # Ctrl-C stops the run: finished rows stay and the next run resumes
        row["status"] = "error"
        row["error"] = f"{type(exc).__name__}: {exc}" + _raised_by_plugin_note(exc)
        row["traceback"] = traceback.format_exc()
    row["wall_s"] = time.perf_counter() - start
    return record(store, row)


def _raised_by_plugin_note(exc: BaseException) -> str:
    """Why a SystemExit or KeyboardInterrupt became an error row instead of ending the run."""
    if isinstance(exc, SystemExit):
        return " (the method called sys.exit(); only its own cell fails)"
    if isinstance(exc, KeyboardInterrupt):
        return " (raised by the method's code, not by Ctrl-C; only its own cell fails)"
    return ""


def record(store: ResultStore, row: dict[str, Any]) -> dict[str, Any]:
    """Write the row atomically, then tell the plugins."""
    with registry.extra_metrics(metrics_of_rows([row])):  # the row files its extra metrics as metrics
        store.write(row)
    pm.hook.adbench_cell_finished(row=row)
    return row


def base_row(cell: Cell, device: str) -> dict[str, Any]:
    """The keys every row has, before any result: definition, plugin, provenance."""
    entry = registry.methods().get(cell.method) if cell.method in registry.methods() else None
    return {
        "cell_key": cell.key, **cell.definition(),
        "status": "running", "error": None, "traceback": None,
        "method_paper": entry.obj.paper or None if entry else None,
        "method_display": (entry.obj.display_name or entry.obj.name) if entry else None,
        "method_bibtex": entry.obj.bibtex or None if entry else None,
        "fidelity": entry.obj.fidelity if entry else None,
        "method_notes": dict(entry.obj.notes) if entry else {},
        "plugin": entry.plugin if entry else None,
        "plugin_distribution": entry.distribution if entry else None,
        "plugin_version": entry.version if entry else None,
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **provenance(device),
    }


def _run(cell: Cell, method_cls: type[Method], spec: RunSpec, store: ResultStore) -> dict[str, Any]:
    device = spec.device
    if cell.track not in method_cls.tracks:
        raise ValueError(f"method {cell.method!r} does not support track {cell.track!r} "
                         f"(it supports: {', '.join(method_cls.tracks)})")
    cfg = method_cls.config_for(cell.profile, dict(cell.overrides))
    for needed in method_cls.required_weights(cfg):  # before any data: a missing file fails fast
        weights.require(needed, cell.method)
    adapter = registry.adapter_for(dataset_spec(spec.catalogue, cell.dataset))
    split = build_split(adapter, cell)
    split_path = store.run_dir / "splits" / f"{cell.dataset}-{cell.category}-{cell.key}.json"
    write_json_atomic(split_path, split.manifest())

    size = cfg.image_size
    t0 = time.perf_counter()
    train_t = load_samples(split.train, size)
    test_t = load_samples(split.test, size)
    val_t = load_samples(split.validation, size) if split.validation else None
    load_s = time.perf_counter() - t0

    seed_everything(cell.seed)
    ctx = RunContext(device=device, seed=cell.seed, profile=cell.profile, track=cell.track)
    method = method_cls(cfg, ctx)
    weights.start_recording()
    method.build()  # right after the seed: initial weights depend on the seed alone
    loaded = weights.recorded()
    train = TrainData(train_t.float_images(), train_t.labels, train_t.masks, train_t.defect_types)
    fit = method.fit(train)
    model = method.model()
    pred = predict(model, test_t, method=cell.method, device=device,
                   batch_size=cfg.eval_batch_size)
    val_pred = (predict(model, val_t, method=cell.method, device=device, batch_size=cfg.eval_batch_size)
                if val_t is not None else None)
    t0 = time.perf_counter()
    thresholds = validation_thresholds(val_pred, split.validation, native=cell.eval_resolution == "native",
                                       missing=no_validation_reason(cell))
    native = None
    pairs = PairSamples(seed=cell.seed)
    save_to = store.run_dir / "maps" / f"{cell.key}-native.npz" if spec.save_maps else None
    if cell.eval_resolution == "native" and pred.maps is not None:
        native = native_evaluator(pred.maps, split.test, save_to, pairs=pairs)
    metrics = score(pred, test_t, native=native, native_pairs=pairs, seed=cell.seed, thresholds=thresholds)
    metrics["eval_wall_s"] = time.perf_counter() - t0
    if native is not None and save_to is not None:
        metrics["native_maps_file"] = str(save_to.relative_to(store.run_dir))
    out: dict[str, Any] = {
        **metrics,
        "published": published_for(method_cls, adapter.name),
        "config": cfg.to_dict(), "image_size": size, "n_train": len(train_t),
        "n_validation": len(split.validation), "validation_source": split.description.get("validation"),
        "n_train_contaminated": len(split.description.get("contaminated", [])),
        "threshold_image": thresholds.image, "threshold_pixel": thresholds.pixel,
        "n_train_anomalous": int(train_t.labels.sum()),
        "split_file": str(split_path.relative_to(store.run_dir)),
        "fit_epochs": fit.epochs, "fit_steps": fit.steps, "fit_wall_s": fit.wall_s,
        "fit_losses": fit.losses, "fit_notes": fit.notes, "pretrained_weights": loaded,
        "load_wall_s": load_s, "predict_wall_s": pred.wall_s,
        "decode_notes": {k: train_t.decode_notes.get(k, 0) + test_t.decode_notes.get(k, 0)
                         for k in {**train_t.decode_notes, **test_t.decode_notes}},
    }
    state = method.fitted_state() if method_cls.costs_after_fit else None
    if state is not None:
        out["fitted_state"] = state
    out.update(_costs(method_cls, cfg, model, device, spec.cost_threads, cell.profile, state))
    if pred.maps is not None:
        out["maps_file"] = _save_examples(store, cell, test_t, pred, SAVED_EXAMPLES)
    return out


def _save_examples(store: ResultStore, cell: Cell, test: Any, pred: Any, k: int) -> str:
    """A bounded sample of maps for the report's qualitative figures: the k highest- and k
    lowest-scored anomalies, k normals, and the same images for every method
    (:func:`common_examples`), so the grid can compare methods on one set of images."""
    import numpy as np

    labels = test.labels.numpy()
    anom = np.nonzero(labels == 1)[0]
    norm = np.nonzero(labels == 0)[0]
    order = anom[np.argsort(-pred.scores[anom])]
    pick = np.unique(np.concatenate([order[:k], order[-k:], norm[:k],
                                     common_examples(labels, test.defect_types, k)]).astype(int))
    path = write_atomic(store.run_dir / "maps" / f"{cell.key}.npz", lambda fh: np.savez_compressed(
        fh, images=test.images[pick].numpy(), masks=test.masks[pick].numpy(), maps=pred.maps[pick].astype(np.float16),
        scores=pred.scores[pick], labels=labels[pick], paths=np.array([test.paths[i] for i in pick]),
        defect_types=np.array([test.defect_types[i] for i in pick])))
    return str(path.relative_to(store.run_dir))


def common_examples(labels: Any, defect_types: list[str], k: int) -> list[int]:
    """Test images chosen without looking at any method's output: the first anomalous image of
    each of the first k defect types (sorted), then the first normal image."""
    first: dict[str, int] = {}
    for i, (y, d) in enumerate(zip(labels, defect_types)):
        if y == 1:
            first.setdefault(d, i)
    normals = [i for i, y in enumerate(labels) if y == 0][:1]
    return [first[d] for d in sorted(first)[:k]] + normals


def _costs(method_cls: type[Method], cfg: MethodConfig, model: Any, device: str, threads: int | None,
           profile: str, fitted_state: dict[str, Any] | None = None) -> dict[str, Any]:
    """The cost profile's figures (cached per method config, device and threads), plus an
    ONNX parity check on this cell's own fitted model."""
    import torch

    from ..costs.onnx_export import export_and_check
    from .costs import cell_costs

    out: dict[str, Any] = {}
    try:
        summary = cell_costs(method_cls, cfg, profile, device, threads, fitted=model,
                             fitted_state=fitted_state)["summary"]
        out.update({k: summary.get(k) for k in PROFILE_KEYS if k in summary})
        out.update({f"costs_{k}": summary.get(k) for k in PROFILE_ENV_KEYS})
    except Exception as exc:  # costs must not cost the cell its metrics
        out["costs_error"] = f"{type(exc).__name__}: {exc}"
    size = cfg.image_size
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    try:
        check = export_and_check(model, x, reps=0)
    except Exception as exc:  # an ONNX check must not cost the cell its metrics either
        check = {"onnx_ok": False, "onnx_error": f"{type(exc).__name__}: {exc}"}
    out.update(onnx_ok=check.get("onnx_ok"), onnx_max_abs_err=check.get("onnx_max_abs_err"),
               onnx_error=check.get("onnx_error"), onnx_checked_on="this cell's fitted model")
    model.to(device)
    return out
