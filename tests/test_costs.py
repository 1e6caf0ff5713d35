"""Cost profiler: counts against known figures, closed forms and hand computations."""

from __future__ import annotations

import numpy as np
import pytest
import segmentation_models_pytorch as smp
import torch
import torchvision
from torch import nn

from adbench.costs.flops import count_flops
from adbench.costs.latency import measure_latency, precision_supported
from adbench.costs.memory import measure_memory
from adbench.costs.onnx_export import export_and_check
from adbench.costs.measure import measure_model
from adbench.costs.size import count_parameters, model_size_mb, parameter_counts
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
    # forward peak: Linear 1's output (20 floats) is alive while ReLU writes its own output
    # (20 floats); Linear 1's output is then freed before Linear 2 writes 5: 40 × 4 bytes.
    # Weights, buffers and the input existed before and are not counted.
    assert res["forward_mb"] * 2**20 == pytest.approx(40 * 4)
    # backward peak: the gradients, (10·20 + 20) + (20·5 + 5) parameters × 4 bytes, plus at
    # most the transient gradients of the activations (35 floats) and the scalar loss
    assert 325 * 4 <= res["backward_mb"] * 2**20 <= (325 + 35 + 1) * 4
    assert res["memory_method"].startswith("cpu: peak of live tensor storages")
    assert all(p.grad is None for p in mlp.parameters()), "the caller's model is untouched"


def test_memory_is_measured_at_the_training_batch_size():
    """A BatchNorm network cannot train at batch 1; at its training batch it has a peak, and
    the activations scale with the batch."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(48, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 2))
    x = torch.rand(1, 3, 4, 4)
    with pytest.raises(ValueError):  # what the old batch-1 pass hit, and swallowed as 0
        net.train()(x)
    small, large = (measure_memory(net, x, device="cpu", batch=b) for b in (4, 16))
    assert small["memory_batch"] == 4 and small["forward_mb"] > 0 and small["backward_mb"] > 0
    assert 3 * small["forward_mb"] < large["forward_mb"] <= 4 * small["forward_mb"]  # per-image activations dominate


def test_a_pipeline_without_trainable_outputs_has_no_backward_figure():
    frozen = nn.Conv2d(3, 1, 3).requires_grad_(False)
    res = measure_memory(frozen, torch.rand(1, 3, 8, 8), device="cpu", batch=2)
    assert res["backward_mb"] is None and "no backward pass" in res["memory_note"]


def test_inference_parameters_leave_out_training_only_parts():
    class WithDecoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = nn.Linear(4, 3), nn.Linear(3, 4)  # decoder: training only
            self.scale = nn.Parameter(torch.ones(3))  # read directly, not through a module call

        def forward(self, x):
            return (self.encoder(x) * self.scale).sum(1)

    counts = parameter_counts(WithDecoder(), torch.rand(2, 4))
    assert counts == {"params_inference": 15 + 3, "params_total": 15 + 3 + 16, "params_trainable": 34}


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
    assert res["onnx_opset"] == (17 if res["onnx_exporter"] == "torchscript" else 18) and res["ort_latency_ms"] > 0


def test_onnx_parity_is_judged_on_each_outputs_scale():
    from adbench.costs.onnx_export import parity

    score, unit_map = np.array([5667.02]), np.full((4, 4), 0.5)
    # float32 rounding on a score of ~5,700 (VT-ADL's Gaussian-mixture NLL at `paper`) is no mismatch
    assert parity([score + 0.0039, unit_map], [score, unit_map]) == (pytest.approx(0.0039), True)
    # the same difference on a map within ±1 is one
    assert parity([score, unit_map + 0.0039], [score, unit_map]) == (pytest.approx(0.0039), False)
    # a real mismatch on the large output still fails
    assert parity([score + 10.0, unit_map], [score, unit_map])[1] is False
    assert parity([np.zeros(0)], [np.zeros(0)]) == (0.0, True)


def test_export_failure_is_an_explained_row():
    class SVD(nn.Module):
        def forward(self, x):
            return (torch.linalg.svd(x[:, 0]).S.sum(1),)

    res = export_and_check(SVD(), torch.rand(1, 3, 8, 8))
    assert res["onnx_ok"] is False and "svd" in res["onnx_error"]


def test_latency_rows_and_unsupported_precision():
    res = measure_model(_reference_pipeline(), 32, batches=(1, 2), precisions=("fp32", "fp16"),
                        min_time=0.05, onnx=False)
    rows = {(r["precision"], r["batch"]): r for r in res["latency"]}
    assert rows[("fp32", 1)]["status"] == "ok" and rows[("fp32", 1)]["latency_reps"] >= 20
    assert rows[("fp32", 2)]["throughput_ips"] > 0 and rows[("fp32", 1)]["threads"] >= 1
    assert rows[("fp16", 1)]["status"] == "unsupported" and "latency_ms" not in rows[("fp16", 1)]
    assert res["summary"]["latency_timer"] == "perf_counter"
    assert {"torch_threads", "cpu_model", "torch_build"} <= set(res["summary"])
    assert precision_supported("cpu", "bf16") and not precision_supported("cpu", "fp16")


def test_measure_latency_median_and_iqr():
    res = measure_latency(nn.Identity(), torch.rand(1, 3, 4, 4), device="cpu", min_time=0.05)
    assert res["latency_ms"] > 0 and res["latency_iqr_ms"] >= 0
    assert res["latency_reps"] >= 20 and res["latency_timed_s"] >= 0.05 and res["warmup_reps"] >= 3


def test_latency_stops_at_one_second_or_twenty_passes_whichever_is_later():
    from adbench.costs.latency import _time_passes

    assert len(_time_passes(lambda: 0.001, min_time=1.0, min_reps=20, max_time=60)) == 1000  # 1 s of passes
    assert len(_time_passes(lambda: 0.2, min_time=1.0, min_reps=20, max_time=60)) == 20  # 20 passes
    assert len(_time_passes(lambda: 2.0, min_time=1.0, min_reps=20, max_time=5)) == 3  # a slow model: capped


def test_noisy_latency_is_flagged_and_marked_in_tables():
    from adbench.costs.latency import summarise
    from adbench.report.cost_views import cost_display

    assert not summarise([1.0] * 10 + [1.1] * 10, 1)["latency_noisy"]
    spread = summarise([1.0, 1.0, 2.0, 2.0] * 5, 1)
    assert spread["latency_noisy"] and spread["latency_reps"] == 20
    import pandas as pd

    costs = pd.DataFrame({"method": ["a", "b"], "device": ["cpu", "cpu"], "latency_ms": [1.5, None],
                          "forward_mb": [3.0, None], "latency_noisy": [True, False],
                          "errors": ["", "forward peak (MiB): ValueError: batch of 1"]})
    shown, notes = cost_display(costs)
    assert shown["latency (ms)"].tolist() == ["1.5*", "n/a"] and shown["forward peak (MiB)"][1] == "n/a"
    assert any("noisy" in n for n in notes) and any("ValueError: batch of 1" in n for n in notes)


def test_capsnet_and_capsnet2021_are_timed_by_the_same_protocol():
    """The same network (seeded weights, same input) is measured the same way: equal parameter
    counts, and every latency a median over at least 20 repetitions or 1 s of timing, with
    its IQR. Whether the two medians agree is a timing figure, so it lives in
    ``benches/test_latency_under_load.py`` (docs/benchmarks.md), not in an assertion here."""
    from adbench import registry
    from adbench.costs.measure import measure_method

    res = {}
    for name in ("capsnet", "capsnet2021"):
        cls = registry.methods().get(name).obj
        res[name] = measure_method(cls, cls.config_for("smoke"), use_cache=False, batches=(1, 8))
    a, b = (res[n]["summary"] for n in ("capsnet", "capsnet2021"))
    assert a["params_inference"] == b["params_inference"]
    for name in res:
        assert [r["batch"] for r in res[name]["latency"]] == [1, 8]
        for r in res[name]["latency"]:
            assert r["latency_reps"] >= 20 or r["latency_timed_s"] >= 1.0
            assert r["latency_ms"] > 0 and r["latency_iqr_ms"] >= 0
            assert r["latency_q1_ms"] <= r["latency_ms"] <= r["latency_q3_ms"]  # the figure's whiskers
            assert r["latency_q3_ms"] - r["latency_q1_ms"] == pytest.approx(r["latency_iqr_ms"])


def test_profile_cli_needs_no_data_and_writes_costs_csv(tmp_path):
    res = run_cli(["profile", "convae", "--profile", "smoke", "--batch", "1,2", "--precision", "fp32,bf16",
                   "--out", str(tmp_path), "--no-cache"], env={"ADBENCH_CACHE": str(tmp_path / "cache")})
    assert res.returncode == 0, res.stderr
    import pandas as pd

    df = pd.read_csv(tmp_path / "costs.csv")
    assert len(df) == 4 and set(df["precision"]) == {"fp32", "bf16"}
    from adbench.costs.table import COSTS_CSV_COLUMNS
    from adbench.report.build import write_report
    from adbench.results.store import ResultStore, load_rows

    assert list(df.columns) == list(COSTS_CSV_COLUMNS), "the one costs.csv layout"
    ResultStore(tmp_path / "run").write({"cell_key": "k", "method": "convae", "dataset": "d", "category": "c",
                                         "status": "ok", "device": "cpu", "latency_ms": 1.0, "params_inference": 5})
    write_report(load_rows([tmp_path / "run"]), tmp_path / "rep", ("csv",))
    report_costs = pd.read_csv(tmp_path / "rep" / "costs.csv")
    assert list(report_costs.columns) == list(df.columns), "adbench report writes the same layout"
    assert report_costs["params_inference"].tolist() == [5] and report_costs["latency_ms"].tolist() == [1.0]
    assert df[["params_inference", "params_total", "gmacs", "forward_mb", "backward_mb", "memory_batch",
               "onnx_size_mb", "latency_ms", "latency_iqr_ms", "latency_reps"]].notna().to_numpy().all()
    assert (df["costs_torch_threads"] >= 1).all() and df["costs_cpu_model"].notna().all()
    assert (df["latency_reps"] >= 20).all() and (df["profiled_weights"] == "random init (seed 0)").all()
    assert not (tmp_path / "cache" / "synthetic").exists(), "profiling must not touch data"


def test_concurrent_profiles_of_one_config_run_once(tmp_path, monkeypatch, second_lock_waiter):
    """Two workers starting cells of one method: the cost profile is computed once, and the
    second worker gets the cached figures instead of profiling again. The profile waits until
    the second worker is at the entry's lock, so the two always overlap."""
    from concurrent.futures import ThreadPoolExecutor

    from adbench import registry
    from adbench.costs import measure as prof

    monkeypatch.setenv("ADBENCH_CACHE", str(tmp_path))
    calls: list[int] = []

    def fake_profile(*args):
        calls.append(1)
        assert second_lock_waiter.wait(timeout=60), "the second worker never reached the lock"
        return {"summary": {"params": 7}, "latency": [], "cached": False}

    monkeypatch.setattr(prof, "_profile", fake_profile)
    cls = registry.methods().get("convae").obj
    def ask() -> dict:
        return prof.measure_method(cls, cls.config_for("smoke"))

    with ThreadPoolExecutor(2) as pool:  # two workers asking at once
        out = [f.result() for f in [pool.submit(ask) for _ in range(2)]]
    assert len(calls) == 1
    assert sorted(r["cached"] for r in out) == [False, True]
    assert all(r["summary"] == {"params": 7} for r in out)


def test_a_torchscript_export_failure_prints_nothing_to_stdout(capfd):
    """Max-unpooling fails the TorchScript exporter, which then dumps its IR graph on stdout
    (file descriptor 1); the dynamo fallback is used and stdout stays clean."""

    class Unpool(nn.Module):
        def forward(self, x):
            pooled, idx = torch.nn.functional.max_pool2d(x, 2, 2, return_indices=True)
            return (torch.ops.aten.max_unpool2d(pooled, idx, [8, 8]).mean((1, 2, 3)),)

    row = export_and_check(Unpool(), torch.rand(1, 3, 8, 8), reps=1)
    assert row["onnx_ok"] and row["onnx_exporter"] == "dynamo" and row["onnx_opset"] == 18, row
    assert "Torch IR graph" not in capfd.readouterr().out


def test_segnet_unpooling_is_exported_by_torchscript_and_equals_max_unpool():
    """The traceable unpooling SegNet uses under export is bit-identical to the ATen op it
    uses in training, forward and backward."""
    from adbench_segmentation.nets import _unpool2x_traceable

    x = torch.randn(2, 4, 8, 8)
    pooled, idx = torch.nn.functional.max_pool2d(x, 2, 2, return_indices=True)
    a, b = pooled.clone().requires_grad_(), pooled.clone().requires_grad_()
    ours, aten = _unpool2x_traceable(a, idx), torch.ops.aten.max_unpool2d(b, idx, [8, 8])
    assert torch.equal(ours, aten)
    grad = torch.randn_like(aten)
    (ours * grad).sum().backward()
    (aten * grad).sum().backward()
    assert torch.equal(a.grad, b.grad)
    from adbench import RunContext, registry

    cls = registry.methods().get("segnet").obj
    cfg = cls.config_for("smoke")
    row = export_and_check(cls(cfg, RunContext()).model(), torch.rand(1, 3, 32, 32), reps=0)
    assert row["onnx_ok"] and row["onnx_exporter"] == "torchscript", row
