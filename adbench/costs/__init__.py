"""Cost measurement of a method's whole inference pipeline (docs/architecture.md, "Cost figures").

"Profile" in adbench always means a smoke/quick/paper hyper-parameter tier; measuring
parameters, FLOPs, latency, memory and ONNX size is called measuring costs."""

from .measure import measure_method, measure_model

__all__ = ["measure_method", "measure_model"]
