"""The cost figures a result row carries: the ``costs`` block of the row schema
(docs/results.md). ``costs/`` owns these names; the runner, the row schema and the reports
read them from here."""

from __future__ import annotations

#: the cost profile's figures copied into every row (see docs/results.md)
PROFILE_KEYS: tuple[str, ...] = (
    "params_inference", "params_total", "params_trainable", "model_size_mb", "input_size",
    "gmacs", "gflops", "flops_unsupported_ops", "flops_error",
    "forward_mb", "backward_mb", "memory_batch", "memory_method", "memory_error", "memory_note",
    "onnx_size_mb", "onnx_exporter", "onnx_opset", "ort_latency_ms",
    "latency_ms", "latency_iqr_ms", "latency_reps", "latency_timed_s", "latency_noisy", "latency_timer",
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

#: cost key → the column title of the report's cost tables (parameters in millions)
COST_COLUMNS = {"params_inference": "params, inference (M)", "params_total": "params, total (M)",
                "gmacs": "GMACs (fvcore)", "latency_ms": "latency (ms)", "latency_iqr_ms": "latency IQR (ms)",
                "forward_mb": "forward peak (MiB)", "backward_mb": "backward peak (MiB)",
                "memory_batch": "memory batch", "model_size_mb": "model (MiB)", "onnx_size_mb": "ONNX (MiB)"}
#: cost key → the key of the error it carries when it could not be measured
COST_ERRORS = {"gmacs": "flops_error", "forward_mb": "memory_error", "backward_mb": "memory_error",
               "onnx_size_mb": "onnx_error", "latency_ms": "latency_error"}
