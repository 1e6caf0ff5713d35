"""Pyramidal AE and PIADE: contract, perceptual loss, routing in PIADE."""

from __future__ import annotations

import warnings

import pytest
import torch

from adbench import RunContext, registry
from adbench.testing import MethodContractTests


class TestPyramidalAE(MethodContractTests):
    method_name = "pyramidal_ae"


class TestPIADE(MethodContractTests):
    method_name = "piade"


def test_perceptual_loss_is_zero_for_identical_inputs():
    from adbench_pyramidal.perceptual import PerceptualNet, perceptual_distance

    net = PerceptualNet(prefer_pretrained=False)
    x = torch.rand(3, 3, 32, 32)
    assert torch.equal(perceptual_distance(net, x, x), torch.zeros(3))
    assert (perceptual_distance(net, x, torch.rand(3, 3, 32, 32)) > 0).all()


def test_missing_imagenet_weights_fall_back_loudly_and_are_recorded(tmp_path, monkeypatch):
    from adbench_pyramidal.perceptual import PerceptualNet

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.warns(UserWarning, match="no ImageNet VGG11 weights"):
        net = PerceptualNet(prefer_pretrained=True)
    assert net.backbone == "vgg11_features4_random_frozen"
    assert not any(p.requires_grad for p in net.parameters())


def test_local_imagenet_weights_are_used_when_present(tmp_path, monkeypatch):
    from torchvision.models import vgg11

    from adbench_pyramidal.perceptual import VGG11_FILE, PerceptualNet

    (tmp_path / "checkpoints").mkdir()
    reference = vgg11(weights=None)
    torch.save(reference.state_dict(), tmp_path / "checkpoints" / VGG11_FILE)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = PerceptualNet(prefer_pretrained=True)
    assert net.backbone == "vgg11_features4_imagenet"
    for i in (0, 3):
        assert torch.equal(net.features[i].weight, reference.features[i].weight)
        assert torch.equal(net.features[i].bias, reference.features[i].bias)
    # only vgg11.features[:4] is held (and built), not the 129 M-parameter classifier
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in reference.features[:4].parameters())


def test_piade_routes_to_two_64d_vectors_with_unit_coupling():
    cls = registry.methods().get("piade").obj
    net = cls(cls.config_for("quick"), RunContext()).model().net.eval()
    with torch.no_grad():
        net(torch.rand(2, 3, 64, 64))
    c = net.routing.last_coupling
    assert c.shape[-1] == 2 and net.routing.weight.shape[2] == 64
    assert torch.allclose(c.sum(-1), torch.ones_like(c.sum(-1)), atol=1e-6)


def test_piade_paper_shapes_follow_the_published_layout():
    cls = registry.methods().get("piade").obj
    net = cls(cls.config_for("paper"), RunContext()).model().net
    assert net.backbone.out_channels == 2048 and net.side == 4  # 2048×4×4 at 120 px
    assert net.n_caps == 480  # 3840 pooled values as 8-d capsules
    assert net.decoder[0].in_channels == 640  # joined map reshaped to 640×8×8
