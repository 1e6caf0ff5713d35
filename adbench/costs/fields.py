"""The cost figures a result row carries: the ``costs`` block of the row schema
(docs/results.md). ``costs/`` owns these names; the runner, the row schema and the reports
read them from here."""

from __future__ import annotations

from dataclasses import dataclass

#: the cost profile's figures copied into every row (see docs/results.md)
PROFILE_KEYS: tuple[str, ...] = (
    "params_inference", "params_total", "params_trainable", "model_size_mb", "input_size",
    "gmacs", "gflops", "flops_unsupported_ops", "flops_error",
    "forward_mb", "backward_mb", "memory_batch", "memory_method", "memory_error", "memory_note",
    "onnx_size_mb", "onnx_exporter", "onnx_opset", "ort_latency_ms",
    "latency_ms", "latency_iqr_ms", "latency_q1_ms", "latency_q3_ms", "latency_reps", "latency_timed_s", "latency_noisy", "latency_timer",
    "latency_batch", "latency_error", "profiled_weights")
#: how ``profiled_weights`` starts when a cell's cost was profiled on its own fitted model
#: (``Method.costs_after_fit``); the rest names the fitted state, which differs between cells
FITTED_WEIGHTS = "this cell's fitted model"
#: the profile's environment, kept under ``costs_<name>`` so they never overwrite the cell's own
PROFILE_ENV_KEYS: tuple[str, ...] = ("torch_threads", "cpu_model", "gpu_name", "torch_build")
#: the ONNX parity check each cell runs on its own fitted model
PARITY_KEYS: tuple[str, ...] = ("onnx_ok", "onnx_max_abs_err", "onnx_error", "onnx_checked_on")
#: every key of a row's ``costs`` block
ROW_COST_KEYS: tuple[str, ...] = (PROFILE_KEYS + tuple(f"costs_{k}" for k in PROFILE_ENV_KEYS) + PARITY_KEYS
                                  + ("costs_error", "costs_source"))

@dataclass(frozen=True)
class CostField:
    """One cost figure as every table, figure and ``costs.csv`` names it: ``key`` is the row key
    and the ``costs.csv`` column, ``title`` the Markdown/HTML heading, ``short`` the LaTeX
    heading, ``error_key`` the row key that says why it is missing, ``scale`` what the row value
    is divided by for display (parameters are shown in millions)."""

    key: str
    unit: str
    title: str
    short: str
    error_key: str | None = None
    scale: float = 1.0
    size_figure: bool = False


#: the cost figures the report compares, in table order (docs/results.md)
COST_FIELDS: tuple[CostField, ...] = (
    CostField("input_size", "px", "input (px)", "px"),
    CostField("params_inference", "M", "params, inference (M)", "params (M)", scale=1e6, size_figure=True),
    CostField("params_total", "M", "params, total (M)", "total (M)", scale=1e6),
    CostField("gmacs", "GMAC", "GMACs (fvcore)", "GMACs", error_key="flops_error"),
    CostField("latency_ms", "ms", "latency (ms)", "ms", error_key="latency_error"),
    CostField("latency_iqr_ms", "ms", "latency IQR (ms)", "IQR ms"),
    CostField("forward_mb", "MiB", "forward peak (MiB)", "fwd MiB", error_key="memory_error", size_figure=True),
    CostField("backward_mb", "MiB", "backward peak (MiB)", "bwd MiB", error_key="memory_error", size_figure=True),
    CostField("memory_batch", "images", "memory batch", "batch"),
    CostField("model_size_mb", "MiB", "model (MiB)", "model MiB"),
    CostField("onnx_size_mb", "MiB", "ONNX (MiB)", "ONNX MiB", error_key="onnx_error", size_figure=True),
)
COST_FIELD = {f.key: f for f in COST_FIELDS}
