"""Cost figures that mean one thing: ONNX size against inference parameters at ``paper``,
where the weights dominate the file (slow: it exports every built-in method at full size)."""

from __future__ import annotations

import pytest
import torch

from adbench import RunContext, registry
from adbench.costs.onnx_export import export_and_check
from adbench.costs.size import parameter_counts

BUILT_IN = ["capsnet", "capsnet2021", "convae", "fcn32s", "piade", "pyramidal_ae", "segnet", "unet", "unet2",
            "unet_ronneberger", "unetpp", "vtadl"]


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILT_IN)
def test_onnx_size_matches_inference_parameters_at_paper(name):
    cls = registry.methods().get(name).obj
    # random weights: the sizes do not depend on them, and no weights file is needed
    cfg = cls.config_for("paper", {"pretrained": False} if "pretrained" in cls.profiles["paper"] else {})
    torch.manual_seed(0)
    model = cls(cfg, RunContext(profile="paper")).model().eval()
    x = torch.rand(1, 3, cfg["image_size"], cfg["image_size"])
    counts = parameter_counts(model, x)
    onnx = export_and_check(model, x, reps=0)
    assert onnx["onnx_ok"], onnx
    ratio = onnx["onnx_size_mb"] * 2**20 / (counts["params_inference"] * 4)
    print(f"{name}: ONNX {onnx['onnx_size_mb']:.2f} MiB, inference params {counts['params_inference']:,} "
          f"(total {counts['params_total']:,}), ratio {ratio:.3f}")
    assert 0.9 <= ratio <= 1.1
