"""Tidy cost table: one row per method × device × precision × batch, units in column names.

``GMACs_fvcore`` is fvcore's total: fvcore counts one fused multiply-add as one "flop",
so the figure is giga multiply-accumulates (about half the FLOPs). ``status`` is
"unsupported" for a precision the device lacks; its latency cells are then empty.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

COLUMNS = {
    "params": "params",
    "model_size_mb": "model_size_MiB",
    "gmacs": "GMACs_fvcore",
    "forward_mb": "forward_MiB",
    "backward_mb": "backward_MiB",
    "onnx_size_mb": "onnx_MiB",
    "onnx_max_abs_err": "onnx_max_abs_err",
    "ort_latency_ms": "ort_cpu_latency_ms",
}


def costs_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for res in results:
        s = res["summary"]
        base = {"method": res["method"], **{label: s.get(key) for key, label in COLUMNS.items()}}
        base["flops_unsupported_ops"] = ",".join(s.get("flops_unsupported_ops", {}) or [])
        base["onnx_error"] = s.get("onnx_error")
        for lat in res["latency"]:
            rows.append({**base, "device": lat["device"], "precision": lat["precision"], "batch": lat["batch"],
                         "status": lat["status"], "latency_ms": lat.get("latency_ms"),
                         "latency_iqr_ms": lat.get("latency_iqr_ms"), "latency_reps": lat.get("latency_reps"),
                         "throughput_img_per_s": lat.get("throughput_ips"), "timer": lat.get("timer")})
    return pd.DataFrame(rows)
