"""CapsNet plugins: contract, capsule invariants, margin loss by hand, supervised sweep."""

from __future__ import annotations

import json

import pytest
import torch

from adbench.testing import MethodContractTests
from adbench_capsules import DynamicRouting, margin_loss, squash
from conftest import run_cli
from adbench.results.store import load_row


class TestCapsNet(MethodContractTests):
    method_name = "capsnet"


class TestCapsNet2021(MethodContractTests):
    method_name = "capsnet2021"


def test_squash_keeps_direction_and_norm_below_one():
    s = torch.randn(64, 10, 8) * torch.logspace(-3, 3, 64)[:, None, None]
    v = squash(s)
    assert (v.norm(dim=-1) < 1).all()
    cos = torch.nn.functional.cosine_similarity(v.flatten(0, 1), s.flatten(0, 1), dim=-1)
    assert torch.allclose(cos, torch.ones_like(cos), atol=1e-4)
    n = s.norm(dim=-1)
    assert torch.allclose(v.norm(dim=-1), n**2 / (1 + n**2), atol=1e-5)


def test_coupling_coefficients_sum_to_one_over_outputs():
    layer = DynamicRouting(n_in=20, d_in=8, n_out=3, d_out=4, iterations=3)
    out = layer(torch.randn(5, 20, 8))
    assert out.shape == (5, 3, 4) and (out.norm(dim=-1) < 1).all()
    c = layer.last_coupling
    assert c.shape == (5, 20, 3)
    assert torch.allclose(c.sum(dim=2), torch.ones(5, 20), atol=1e-6)


def test_margin_loss_matches_hand_computation():
    lengths = torch.tensor([[0.95, 0.3], [0.2, 0.5]])
    targets = torch.tensor([0, 1])
    # sample 0 (normal): T0 max(0, .9-.95)^2 = 0; λ·max(0, .3-.1)^2 = .5·.04 = .02
    # sample 1 (anom):   λ·max(0, .2-.1)^2 = .5·.01 = .005; max(0, .9-.5)^2 = .16
    expected = (0.02 + 0.165) / 2
    assert margin_loss(lengths, targets).item() == pytest.approx(expected)
    w = torch.tensor([1.0, 3.0])
    assert margin_loss(lengths, targets, class_weights=w).item() == pytest.approx((0.02 + 3 * 0.165) / 2)


def test_imbalance_sweep_gives_one_row_per_ratio(tmp_path):
    out = tmp_path / "sweep"
    res = run_cli(["run", "capsnet", "--track", "supervised", "--anomaly-ratio", "0.1,0.3", "--profile", "smoke",
                   "--category", "disc", "--out", str(out)])
    assert res.returncode == 0, res.stderr
    rows = sorted((load_row(p) for p in (out / "cells").glob("*.json")),
                  key=lambda r: r["anomaly_ratio"])
    assert [r["anomaly_ratio"] for r in rows] == [0.1, 0.3]
    assert all(r["status"] == "ok" and r["pixel_auroc"] is None for r in rows)  # image-level method: no maps
    # the split is written next to the rows; a larger ratio moves more anomalies into training
    splits = [json.loads((out / r["split_file"]).read_text()) for r in rows]
    assert all(s["track"] == "supervised" for s in splits)
    assert sum(splits[0]["moved"].values()) < sum(splits[1]["moved"].values())
    assert [r["n_train_anomalous"] for r in rows] == [sum(s["moved"].values()) for s in splits]


def test_same_split_for_every_supervised_method(tmp_path):
    out = tmp_path / "same"
    res = run_cli(["run", "capsnet", "capsnet2021", "--profile", "smoke", "--category", "grain",
                   "--out", str(out)])
    assert res.returncode == 0, res.stderr
    rows = [load_row(p) for p in (out / "cells").glob("*.json")]
    splits = [json.loads((out / r["split_file"]).read_text()) for r in rows]
    assert len(rows) == 2 and splits[0]["train"] == splits[1]["train"] and splits[0]["test"] == splits[1]["test"]
