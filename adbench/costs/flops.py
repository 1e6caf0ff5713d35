"""FLOPs with fvcore, reporting the operators it could not count instead of hiding them."""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn


def count_flops(model: nn.Module, images: torch.Tensor) -> dict[str, Any]:
    """fvcore's count at the given input. fvcore counts one fused multiply-add as one flop,
    so ``fvcore_gflops`` equals GMACs; ``gflops`` is twice that (multiplies + adds)."""
    import warnings

    with warnings.catch_warnings():  # fvcore's import scripts a loss with the deprecated torch.jit.script
        warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
        from fvcore.nn import FlopCountAnalysis

    for name in ("fvcore.nn.jit_analysis", "fvcore"):
        logging.getLogger(name).setLevel(logging.ERROR)
    analysis = FlopCountAnalysis(model.eval(), (images,))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    with torch.no_grad():
        total = analysis.total()
    return {"gmacs": total / 1e9, "gflops": 2 * total / 1e9,
            "flops_unsupported_ops": dict(sorted(analysis.unsupported_ops().items()))}
