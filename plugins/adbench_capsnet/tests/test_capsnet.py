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
    torch.manual_seed(0)
    s = torch.randn(64, 10, 8) * torch.logspace(-3, 3, 64)[:, None, None]
    v = squash(s)
    # n²/(1+n²) < 1 exactly, but rounds to 1.0 in float32 once n is above about 3e3
    assert (v.norm(dim=-1) <= 1).all() and (v.norm(dim=-1)[s.norm(dim=-1) < 100] < 1).all()
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


def test_detached_routing_gives_the_same_capsules_but_gradient_only_through_the_last_iteration():
    """Guo's DigitCaps (the VT-ADL and PIADE authors' routing): same forward values; the
    agreement updates of the earlier iterations carry no gradient."""
    torch.manual_seed(0)
    full = DynamicRouting(n_in=12, d_in=8, n_out=2, d_out=4, iterations=3)
    detached = DynamicRouting(n_in=12, d_in=8, n_out=2, d_out=4, iterations=3, detach_intermediate=True)
    detached.load_state_dict(full.state_dict())
    u = torch.randn(3, 12, 8)
    assert torch.equal(full(u), detached(u))
    grads = []
    for layer in (full, detached):
        layer.zero_grad()
        layer(u).norm(dim=-1).sum().backward()
        grads.append(layer.weight.grad.clone())
    assert not torch.allclose(grads[0], grads[1])
    one = DynamicRouting(n_in=12, d_in=8, n_out=2, d_out=4, iterations=1, detach_intermediate=True)
    ref = DynamicRouting(n_in=12, d_in=8, n_out=2, d_out=4, iterations=1)
    ref.load_state_dict(one.state_dict())
    for layer in (one, ref):
        layer(u).sum().backward()
    assert torch.equal(one.weight.grad, ref.weight.grad)  # one iteration: nothing to detach


@pytest.mark.parametrize("name", ["capsnet", "capsnet2021"])
def test_paper_parameter_count_is_sabours_capsnet_with_two_16d_capsules(name):
    """No count is published for the 2-capsule variant: Sabour et al.'s CapsNet layers (9×9 conv
    256, primary capsules 32×8 by a 9×9 stride-2 conv, 1152×2 routing matrices 16×8, decoder
    512-1024-image from the 16-d normal capsule), counted here for a 3-channel 28×28 input."""
    from adbench import RunContext, registry

    cls = registry.methods().get(name).obj
    with torch.device("meta"):
        model = cls(cls.config_for("paper"), RunContext()).build_model()
    conv = 3 * 256 * 81 + 256
    primary = 256 * 256 * 81 + 256
    routing = 1152 * 2 * 16 * 8
    decoder = (16 * 512 + 512) + (512 * 1024 + 1024) + (1024 * 3 * 28 * 28 + 3 * 28 * 28)
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(conv + primary + routing + decoder, rel=0.005)


def test_windows_cover_the_image_with_the_last_one_flush_to_the_border():
    from adbench_capsnet.model import windows

    img = torch.arange(2 * 3 * 70 * 70, dtype=torch.float32).view(2, 3, 70, 70)
    win = windows(img, 32, 16)
    starts = [0, 16, 32, 38]  # 38 = 70 - 32: no pixel is left out
    assert win.shape == (2, len(starts) ** 2, 3, 32, 32)
    assert torch.equal(win[:, 0], img[..., :32, :32]) and torch.equal(win[:, -1], img[..., 38:, 38:])
    assert torch.equal(win[:, 1], img[..., :32, 16:48])


def test_window_mode_scores_an_image_by_its_most_anomalous_window():
    from adbench_capsnet.model import CapsNet, CapsNetPipeline, windows

    torch.manual_seed(0)
    pipe = CapsNetPipeline(CapsNet(32, 8, primary_caps=2, decoder=(16, 16)), standardize=True, patch=32,
                           stride=16).eval()
    img = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        per_window = pipe.score(windows(img, 32, 16).flatten(0, 1)).view(3, -1)
        assert torch.allclose(pipe(img).image_scores, per_window.amax(dim=1))


def test_training_crops_of_anomalous_images_hold_their_defect():
    from adbench_capsnet.training import crops

    g = torch.Generator().manual_seed(0)
    images = torch.rand(6, 3, 96, 96)
    masks = torch.zeros(6, 96, 96, dtype=torch.bool)
    for i, (y, x) in enumerate([(2, 3), (93, 94), (50, 1), (0, 95), (40, 60)]):  # corners and edges too
        masks[i, y, x] = True
        images[i, :, y, x] = 5.0  # a value no other pixel has
    labels = torch.tensor([1, 1, 1, 1, 1, 0])
    for _ in range(20):
        out = crops(images, masks, labels, 32, g)
        assert out.shape == (6, 3, 32, 32)
        assert all((out[i] == 5.0).any() for i in range(5))
    no_mask = crops(images[5:], torch.zeros(1, 96, 96, dtype=torch.bool), torch.tensor([1]), 32, g)
    assert torch.allclose(no_mask[0], torch.nn.functional.avg_pool2d(images[5], 3))  # shrunk whole
