"""CapsNet plugins: contract, capsule invariants, margin loss by hand."""

from __future__ import annotations

import pytest
import torch

from adbench.testing import MethodContractTests
from adbench_capsules import DynamicRouting, margin_loss, squash


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
