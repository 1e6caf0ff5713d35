"""Cost profiler: counts against known figures, closed forms and hand computations."""

from __future__ import annotations

import pytest
import segmentation_models_pytorch as smp
import torch
import torchvision
from torch import nn

from adbench.costs.flops import count_flops
from adbench.costs.latency import measure_latency, precision_supported
from adbench.costs.memory import measure_memory
from adbench.costs.onnx_export import export_and_check
from adbench.costs.profile import profile_model
from adbench.costs.size import count_parameters, model_size_mb
from conftest import run_cli


@pytest.mark.parametrize("build, known", [
    (lambda: torchvision.models.resnet18(), 11_689_512),
    (lambda: torchvision.models.resnet50(), 25_557_032),
    (lambda: smp.Unet("resnet34", encoder_weights=None, classes=1), 24_436_369),
])
def test_parameter_counts_match_known_figures(build, known):
    model = build()
    assert count_parameters(model)["params"] == known
    assert model_size_mb(model) >= known * 4 / 2**20


def test_conv2d_flops_match_closed_form():
    conv = nn.Conv2d(3, 16, kernel_size=3, stride=2, padding=1)
    x = torch.rand(1, 3, 32, 32)
    h_out = w_out = 16
    macs = 16 * h_out * w_out * 3 * 3 * 3
    res = count_flops(conv, x)
    assert res["gmacs"] * 1e9 == pytest.approx(macs)
    assert res["gflops"] == pytest.approx(2 * res["gmacs"])


def test_unsupported_ops_are_reported():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.LeakyReLU())
    res = count_flops(model, torch.rand(1, 3, 8, 8))
    assert res["flops_unsupported_ops"] == {"aten::leaky_relu": 1}


def test_cpu_memory_of_a_small_mlp_matches_hand_computation():
    mlp = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    res = measure_memory(mlp, torch.rand(1, 10), device="cpu")
    # saved for backward: the input of Linear 1 (10 floats) and the ReLU output, which is
    # also Linear 2's input (20 floats, one storage): 30 × 4 bytes. Weights are not activations.
    assert res["forward_mb"] * 2**20 == pytest.approx(30 * 4)
    # gradients: (10·20 + 20) + (20·5 + 5) parameters × 4 bytes
    assert res["backward_mb"] * 2**20 == pytest.approx(325 * 4)
    assert all(p.grad is None for p in mlp.parameters()), "the caller's model is untouched"


def test_memory_pass_leaves_batchnorm_statistics_alone():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    before = model[1].running_mean.clone()
    measure_memory(model, torch.rand(1, 3, 8, 8) * 5, device="cpu")
    assert torch.equal(model[1].running_mean, before)


def _reference_pipeline():
    from adbench import RunContext
    from adbench_convae.method import ConvAE

    return ConvAE(ConvAE.config_for("smoke"), RunContext()).model()


def test_onnx_parity_on_reference_autoencoder():
    res = export_and_check(_reference_pipeline(), torch.rand(1, 3, 32, 32))
    assert res["onnx_ok"] and res["onnx_max_abs_err"] < 1e-3 and res["onnx_size_mb"] > 0
    assert res["onnx_opset"] == 17 and res["ort_latency_ms"] > 0


def test_export_failure_is_an_explained_row():
    class SVD(nn.Module):
        def forward(self, x):
            return (torch.linalg.svd(x[:, 0]).S.sum(1),)

    res = export_and_check(SVD(), torch.rand(1, 3, 8, 8))
    assert res["onnx_ok"] is False and "svd" in res["onnx_error"]


def test_latency_rows_and_unsupported_precision():
    res = profile_model(_reference_pipeline(), 32, batches=(1, 2), precisions=("fp32", "fp16"),
                        min_run_time=0.05, onnx=False)
    rows = {(r["precision"], r["batch"]): r for r in res["latency"]}
    assert rows[("fp32", 1)]["status"] == "ok" and rows[("fp32", 1)]["latency_reps"] > 1
    assert rows[("fp32", 2)]["throughput_ips"] > 0 and rows[("fp32", 1)]["threads"] >= 1
    assert rows[("fp16", 1)]["status"] == "unsupported" and "latency_ms" not in rows[("fp16", 1)]
    assert res["summary"]["latency_timer"] == "torch.utils.benchmark"
    assert precision_supported("cpu", "bf16") and not precision_supported("cpu", "fp16")


def test_measure_latency_median_and_iqr():
    res = measure_latency(nn.Identity(), torch.rand(1, 3, 4, 4), device="cpu", min_run_time=0.05)
    assert res["latency_ms"] > 0 and res["latency_iqr_ms"] >= 0


def test_profile_cli_needs_no_data_and_writes_costs_csv(tmp_path):
    res = run_cli(["profile", "convae", "--profile", "smoke", "--batch", "1,2", "--precision", "fp32,bf16",
                   "--out", str(tmp_path), "--no-cache"], env={"ADBENCH_CACHE": str(tmp_path / "cache")})
    assert res.returncode == 0, res.stderr
    import pandas as pd

    df = pd.read_csv(tmp_path / "costs.csv")
    assert len(df) == 4 and set(df["precision"]) == {"fp32", "bf16"}
    assert {"params", "GMACs_fvcore", "forward_MiB", "backward_MiB", "onnx_MiB", "latency_ms"} <= set(df.columns)
    assert not (tmp_path / "cache" / "synthetic").exists(), "profiling must not touch data"


def test_concurrent_profiles_of_one_config_run_once(tmp_path, monkeypatch):
    """Two workers starting cells of one method: the cost profile is computed once, and the
    second worker gets the cached figures instead of profiling again."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from adbench import registry
    from adbench.costs import profile as prof

    monkeypatch.setenv("ADBENCH_CACHE", str(tmp_path))
    calls: list[int] = []

    def fake_profile(*args):
        calls.append(1)
        time.sleep(0.3)
        return {"summary": {"params": 7}, "latency": [], "cached": False}

    monkeypatch.setattr(prof, "_profile", fake_profile)
    cls = registry.methods().get("convae").obj
    def ask() -> dict:
        return prof.profile_method(cls, cls.config_for("smoke"))

    with ThreadPoolExecutor(2) as pool:  # two workers asking at once
        out = [f.result() for f in [pool.submit(ask) for _ in range(2)]]
    assert len(calls) == 1
    assert sorted(r["cached"] for r in out) == [False, True]
    assert all(r["summary"] == {"params": 7} for r in out)


def test_a_torchscript_export_failure_prints_nothing_to_stdout(capfd):
    """SegNet's max-unpooling fails the TorchScript exporter, which then dumps its IR graph on
    stdout (file descriptor 1); the dynamo fallback is used and stdout stays clean."""
    from adbench import RunContext, registry

    cls = registry.methods().get("segnet").obj
    cfg = cls.config_for("smoke")
    x = torch.rand(1, 3, cfg["image_size"], cfg["image_size"])
    row = export_and_check(cls(cfg, RunContext()).model(), x, reps=1)
    assert row["onnx_ok"] and row["onnx_exporter"] == "dynamo", row
    assert "Torch IR graph" not in capfd.readouterr().out
