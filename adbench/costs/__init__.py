"""Cost measurement of a method's whole inference pipeline (docs/architecture.md, "Cost figures").

"Profile" in adbench always means a smoke/quick/paper hyper-parameter tier; measuring
parameters, FLOPs, latency, memory and ONNX size is called measuring costs."""

from typing import Any

__all__ = ["measure_method", "measure_model"]


def __getattr__(name: str) -> Any:
    """Import the measuring code (and torch) only when it is used: ``adbench report`` reads
    ``costs.fields`` to know the row's cost keys and needs no torch."""
    if name in __all__:
        from . import measure

        return getattr(measure, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
