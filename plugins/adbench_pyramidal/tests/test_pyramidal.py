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

    net = PerceptualNet(pretrained=False)
    x = torch.rand(3, 3, 32, 32)
    assert torch.equal(perceptual_distance(net, x, x), torch.zeros(3))
    assert (perceptual_distance(net, x, torch.rand(3, 3, 32, 32)) > 0).all()
    assert not any(p.requires_grad for p in net.parameters())


def test_missing_imagenet_weights_stop_the_build_instead_of_falling_back(tmp_path, monkeypatch):
    from adbench.weights import WeightsMissing
    from adbench_pyramidal.perceptual import PerceptualNet

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(WeightsMissing, match="vgg11-8a719046.pth"):
        PerceptualNet(pretrained=True)


def test_local_imagenet_weights_are_used_when_asked(tmp_path, monkeypatch):
    from torchvision.models import vgg11

    from adbench_pyramidal.perceptual import PerceptualNet

    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    reference = vgg11(weights=None)
    torch.save(reference.state_dict(), tmp_path / "hub" / "checkpoints" / "vgg11-8a719046.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = PerceptualNet(pretrained=True)
    assert net.backbone == "vgg11_features4_imagenet"
    for i in (0, 3):
        assert torch.equal(net.features[i].weight, reference.features[i].weight)
        assert torch.equal(net.features[i].bias, reference.features[i].bias)
    # only vgg11.features[:4] is held (and built), not the 129 M-parameter classifier
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in reference.features[:4].parameters())


def test_authors_perceptual_input_is_raw_and_adbench_normalises():
    from adbench_pyramidal.perceptual import PerceptualNet

    raw, normed = PerceptualNet(normalize=False), PerceptualNet(normalize=True)
    x = torch.rand(2, 3, 16, 16)
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    assert torch.allclose(normed(x), raw((x - mean) / std))


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
    net = cls(cls.config_for("paper", {"pretrained": False}), RunContext()).model().net
    assert net.backbone.out_channels == 2048 and net.side == 4  # 2048×4×4 at 120 px
    assert net.n_caps == 480  # 3840 pooled values as 8-d capsules
    assert net.decoder[0].in_channels == 640  # joined map reshaped to 640×8×8


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_piade_paper_matches_the_authors_network_and_counts():
    """PIADE at ``paper`` against the authors' capsmod.py / autoencoder.py / senet.py (no
    published count: counted from their layers, written out here)."""
    cls = registry.methods().get("piade").obj
    cfg = cls.config_for("paper", {"pretrained": False})
    with torch.device("meta"):
        model = cls(cfg, RunContext()).build_model()
    net = model.net
    resnet50_without_fc = 25_557_032 - (2048 * 1000 + 1000)
    se = sum(2 * c * (c // 16) for c in (64, 256, 512, 1024, 2048))  # bias-free SELayer, reduction 16
    pools = sum(2048 * (2048 // r) + 2 * (2048 // r) for r in (1, 2, 4, 8))  # bias-free 1x1 conv + BatchNorm
    caps = 2 * 480 * 64 * 8
    fc = (64 * 128 + 128) + 2 * 128 + (128 * 512 + 512) + 2 * 512 + (512 * 8192 + 8192)  # decoder1 with BatchNorm1d
    deconv = [(640, 16, 3), (16, 32, 3), (32, 32, 4), (32, 3, 4)]
    decoder2 = sum(a * b * k * k + b for a, b, k in deconv) + sum(2 * b for _, b, _ in deconv[:-1])
    authors = resnet50_without_fc + se + pools + caps + fc + decoder2
    assert _count(net) == authors  # 36,961,459: the same layers, so the same count exactly
    vgg = 3 * 64 * 9 + 64 + 64 * 128 * 9 + 128
    assert _count(model) == pytest.approx(authors + vgg, rel=0.005)
    decoder = [m for m in net.decoder if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(m.kernel_size[0], m.stride[0], m.padding[0]) for m in decoder] == [(3, 2, 1), (3, 2, 1), (4, 2, 0), (4, 2, 1)]
    assert net.routing.detach_intermediate and not net.squash_input
    assert model.input_range == "01" and not model.perceptual.normalize
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in net.fc)
    assert net.branches[0][1].momentum == 0.95 and net.branches[0][0].bias is None


def test_piade_paper_decoder_gives_the_input_size():
    cls = registry.methods().get("piade").obj
    net = cls(cls.config_for("paper", {"pretrained": False}), RunContext()).build_model().net.eval()
    with torch.no_grad():
        assert net(torch.rand(1, 3, 120, 120)).shape == (1, 3, 120, 120)


def test_quick_keeps_the_conventions_it_was_tuned_with():
    for name in ("piade", "pyramidal_ae"):
        cfg = registry.methods().get(name).obj.config_for("quick")
        assert cfg["input_range"] == "pm1" and cfg["perceptual_normalize"] and not cfg["pretrained"]
    cfg = registry.methods().get("piade").obj.config_for("quick")
    assert cfg["squash_input"] and not (cfg["detach_routing"] or cfg["fc_batchnorm"] or cfg["authors_layers"])


def test_piade_quick_normalises_each_images_features_before_the_decoder_and_paper_does_not():
    cls = registry.methods().get("piade").obj
    quick = cls(cls.config_for("quick"), RunContext()).build_model().net
    assert isinstance(quick.feature_norm, torch.nn.GroupNorm) and quick.feature_norm.num_groups == 1
    # an image whose backbone map is 50x larger (the exploded images of the README) reaches
    # the decoder on the same scale as the others
    feats = torch.randn(2, quick.backbone.out_channels, 2, 2) * torch.tensor([1.0, 50.0]).view(2, 1, 1, 1)
    normed = quick.feature_norm(feats).flatten(1)
    assert torch.allclose(normed.std(1), torch.ones(2), atol=0.02)
    assert torch.allclose(normed.mean(1), torch.zeros(2), atol=1e-5)
    paper = cls(cls.config_for("paper", {"pretrained": False}), RunContext()).build_model().net
    assert isinstance(paper.feature_norm, torch.nn.Identity)  # the authors' decoder takes the raw map


def test_depth_to_space_keeps_each_position_in_place_and_the_authors_view_does_not():
    from adbench_pyramidal.nets import double_side

    side, channels = 4, 8
    position = torch.arange(side * side, dtype=torch.float32).view(1, 1, side, side)
    x = position.expand(1, channels, side, side)  # every channel holds its position's index
    kept = double_side(x, "depth_to_space")
    assert kept.shape == (1, channels // 4, 2 * side, 2 * side)
    expected = position.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    assert torch.equal(kept, expected.expand_as(kept))
    scattered = double_side(x, "view")
    assert scattered.shape == kept.shape and not torch.equal(scattered, kept)
    assert torch.equal(scattered[0, 0, 0], torch.arange(8, dtype=torch.float32))  # rows of the old map, end to end


def test_piade_quick_keeps_the_published_4x4_map_at_64_px_and_paper_the_authors_network():
    cls = registry.methods().get("piade").obj
    quick = cls(cls.config_for("quick"), RunContext()).build_model().net.eval()
    assert len(quick.backbone.stages) == 3 and quick.backbone.out_channels == 256 and quick.side == 4
    assert quick.join == "depth_to_space" and quick.n_caps == (256 + 128 + 64 + 32) // 8
    feats = quick.backbone(torch.rand(1, 3, 64, 64))
    assert feats.shape[-2:] == (4, 4)  # 64 px / output stride 16: the 4×4 map PIADE has at 120 px
    paper = cls(cls.config_for("paper", {"pretrained": False}), RunContext()).build_model().net
    assert len(paper.backbone.stages) == 4 and paper.join == "view"
    with pytest.raises(ValueError, match="join must be"):
        type(paper)(64, 18, join="concat")


def test_pyramidal_ae_is_marked_as_a_reading():
    assert registry.methods().get("pyramidal_ae").obj.fidelity == "reading"
    assert registry.methods().get("piade").obj.fidelity == "faithful"
