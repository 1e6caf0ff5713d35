"""Segmentation baselines: contract, reference parameter counts, the anomaly paster."""

from __future__ import annotations

import math

import pytest
import torch

from adbench import RunContext, registry
from adbench.augment import foreground_masks, paste_anomalies, perlin_mask
from adbench.costs.size import count_parameters
from adbench.testing import MethodContractTests


class TestUNet(MethodContractTests):
    method_name = "unet"


class TestUNetPlusPlus(MethodContractTests):
    method_name = "unetpp"


class TestUNetRonneberger(MethodContractTests):
    method_name = "unet_ronneberger"


class TestRefinedUNetV2(MethodContractTests):
    method_name = "unet2"


class TestFCN32s(MethodContractTests):
    method_name = "fcn32s"


class TestSegNet(MethodContractTests):
    method_name = "segnet"


def _paper_net(name: str):
    """The ``paper`` network with random weights, on the meta device (no memory, no file)."""
    cls = registry.methods().get(name).obj
    overrides = {"pretrained": False} if "pretrained" in cls.profiles["paper"] else {}
    with torch.device("meta"):
        return cls(cls.config_for("paper", overrides), RunContext()).build_model().net


def _conv(cin: int, cout: int, k: int, bias: bool = True) -> int:
    return cin * cout * k * k + (cout if bias else 0)


def _unet_count(classes: int, refined: bool) -> int:
    """The U-Net of Ronneberger et al. 2015, Fig. 1 (64…1024 channels, no BatchNorm), counted from
    its layers; Refined UNet v2 (authors' repository) adds a 3×3 conv to 16 channels before the head."""
    w = [64, 128, 256, 512, 1024]
    enc = _conv(3, 64, 3) + _conv(64, 64, 3) + sum(_conv(w[i - 1], w[i], 3) + _conv(w[i], w[i], 3) for i in range(1, 5))
    dec = sum(_conv(w[i], w[i - 1], 2) + _conv(2 * w[i - 1], w[i - 1], 3) + _conv(w[i - 1], w[i - 1], 3)
              for i in range(4, 0, -1))
    head = _conv(64, 16, 3) + _conv(16, classes, 1) if refined else _conv(64, classes, 1)
    return enc + dec + head


def _vgg16_convs() -> int:
    cfg = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    return sum(_conv(a, b, 3) for a, b in zip([3] + cfg, cfg))


@pytest.mark.parametrize("name, published", [
    ("unet_ronneberger", _unet_count(1, refined=False)),  # 31,031,745 (31.03 M with 2 classes, as often cited)
    ("unet2", _unet_count(1, refined=True)),  # about 31.0 M (authors' repository)
    # SegNet: VGG16's 13 conv+BN layers mirrored; 29.4-29.5 M as published
    ("segnet", 2 * _vgg16_convs() + 2 * 2 * sum([64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512])),
    # FCN-32s (Caffe reference): VGG16 convs, fc6 7x7x4096, fc7, 1x1 score, fixed 64x64 upscore; 134 M
    ("fcn32s", _vgg16_convs() + _conv(512, 4096, 7) + _conv(4096, 4096, 1) + _conv(4096, 1, 1) + 64 * 64),
])
def test_paper_parameter_counts_match_the_published_networks_within_half_a_percent(name, published):
    assert count_parameters(_paper_net(name))["params"] == pytest.approx(published, rel=0.005)


def test_paper_baselines_follow_the_reference_layers():
    unet2 = _paper_net("unet2")
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in unet2.modules())
    assert any(type(m) is torch.nn.Dropout for m in unet2.modules())
    assert not any(isinstance(m, torch.nn.Dropout2d) for m in unet2.modules())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in _paper_net("unet_ronneberger").modules())
    fcn = _paper_net("fcn32s")
    assert fcn.features[0].padding == (100, 100) and fcn.fc6[0].padding == (0, 0)
    assert not fcn.upscore.weight.requires_grad


def test_fcn32s_reference_padding_crops_back_to_the_input():
    from adbench_segmentation.nets import FCN32s

    net = FCN32s(1, width_div=16, fc=32, reference_padding=True, learn_upscore=False).eval()
    for side in (64, 128, 256):
        with torch.no_grad():
            assert net(torch.rand(1, 3, side, side)).shape == (1, 1, side, side)


def test_smp_paper_profiles_start_from_imagenet_encoders_and_are_substitutes():
    for name in ("unet", "unetpp"):
        cls = registry.methods().get(name).obj
        assert cls.fidelity == "substitute"
        assert [w.name for w in cls.required_weights(cls.config_for("paper"))] == ["smp:resnet34.imagenet"]
        assert cls.required_weights(cls.config_for("quick")) == []


def test_fcn32s_vgg16_21_classes_and_anomaly_head():
    from adbench_segmentation.nets import FCN32s

    n21 = count_parameters(FCN32s(classes=21))["params"]
    assert n21 == pytest.approx(134e6, rel=0.05)
    n1 = count_parameters(FCN32s(classes=1))["params"]
    # the anomaly head (1 class) differs only in the score and up-sampling layers
    assert n21 - n1 == (4096 * 20 + 20) + (21 * 21 - 1) * 64 * 64


def test_paster_masks_match_what_changed():
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(8, 3, 32, 32, generator=gen)
    out, masks = paste_anomalies(images, gen, p=1.0)
    changed = (out - images).abs().amax(1) > 1e-6
    assert torch.equal(changed, masks.bool())
    assert masks.flatten(1).sum(1).gt(0).all(), "with p=1 every image gets an anomaly"
    out0, masks0 = paste_anomalies(images, gen, p=0.0)
    assert torch.equal(out0, images) and masks0.sum() == 0


def _photographs(category: str, n: int, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` normal images of a synthetic category as the loader gives them, and their object regions."""
    import numpy as np

    from adbench.data import surfaces

    images, regions = [], []
    for i in range(n):
        rng = np.random.default_rng([7, i])
        surface = surfaces.NORMALS[category](rng, size)
        images.append(torch.from_numpy(surface.expose(rng)).float().permute(2, 0, 1))
        regions.append(torch.from_numpy(surface.region))
    return torch.stack(images), torch.stack(regions)


def test_foreground_is_the_object_and_a_texture_stays_whole():
    pills, regions = _photographs("pill", 6)
    fg = foreground_masks(pills)
    iou = (fg & regions).flatten(1).sum(1) / (fg | regions).flatten(1).sum(1)
    assert iou.min() > 0.9, iou  # the print inside the tablet is filled, the tray left out
    for texture in ("wood", "fabric", "metal"):
        assert foreground_masks(_photographs(texture, 6)[0]).all(), texture


def test_pastes_land_only_inside_the_region():
    pills, _ = _photographs("pill", 8)
    region = foreground_masks(pills)
    out, masks = paste_anomalies(pills, torch.Generator().manual_seed(3), p=1.0, region=region)
    assert masks.sum() > 0 and not (masks.bool() & ~region).any()
    assert torch.equal(out[~region[:, None].expand_as(out)], pills[~region[:, None].expand_as(pills)])


def test_perlin_masks_are_blobs_not_the_test_set_shapes():
    gen = torch.Generator().manual_seed(1)
    masks = perlin_mask(16, 64, gen)
    frac = masks.flatten(1).mean(1)
    assert (frac > 0).all() and (frac < 0.6).all()


def _quick_net(name: str, **overrides):
    cls = registry.methods().get(name).obj
    torch.manual_seed(0)
    return cls(cls.config_for("quick", overrides), RunContext()).build_model()


@pytest.mark.parametrize("name", ["segnet", "fcn32s"])
def test_quick_heads_start_at_a_rare_anomalous_class(name):
    """``head_init="prior"`` (plugin README, "Diagnosis"): every pixel starts near 1 %
    anomalous instead of at He-initialised random logits."""
    from adbench_segmentation.nets import HEAD_PRIOR

    size = registry.methods().get(name).obj.config_for("quick")["image_size"]
    images = torch.rand(2, 3, size, size)
    means = {}
    for kind in ("prior", "he"):
        model = _quick_net(name, head_init=kind).eval()
        with torch.no_grad():
            means[kind] = model(images).anomaly_maps.mean().item()
        if kind == "prior":
            head = model.net.head()
            assert head.bias.item() == pytest.approx(math.log(HEAD_PRIOR / (1 - HEAD_PRIOR)))
            assert head.weight.std().item() == pytest.approx(0.01, rel=0.2)
    # FCN-32s's bilinear up-sampling weighs border cells less, so its border starts a little higher
    assert means["prior"] < 3 * HEAD_PRIOR < means["he"]


def test_fcn32s_paper_zero_initialises_its_score_layer_and_bad_head_inits_fail():
    cls = registry.methods().get("fcn32s").obj
    assert cls.config_for("paper")["head_init"] == "zero"  # Long et al. 2015, §4.3
    head = _quick_net("fcn32s", head_init="zero").net.head()
    assert not head.weight.any() and not head.bias.any()
    with pytest.raises(ValueError, match="head_init = 'xavier' must be one of 'he', 'zero', 'prior'"):
        _quick_net("segnet", head_init="xavier")


def test_an_unknown_paste_region_is_refused():
    with pytest.raises(ValueError, match="paste_on = 'tray' must be one of 'anywhere', 'foreground'"):
        _quick_net("unet", paste_on="tray")
    with pytest.raises(ValueError, match="paste_on = 'background' must be one of 'anywhere', 'foreground'"):
        _quick_net("segnet", paste_on="background")


@pytest.mark.parametrize("paste_on", ["foreground", "anywhere"])
def test_training_pastes_on_the_object_when_asked(monkeypatch, paste_on):
    """The unsupervised fit hands each batch's object masks to the paster (``paste_on``)."""
    from adbench import TrainData
    from adbench_segmentation import training

    pills, _ = _photographs("pill", 8, size=32)
    seen = []

    def recording_paste(images, gen, p=0.5, region=None):
        seen.append(region)
        return paste_anomalies(images, gen, p=p, region=region)

    monkeypatch.setattr(training, "paste_anomalies", recording_paste)
    cls = registry.methods().get("unet").obj
    method = cls(cls.config_for("smoke", {"paste_on": paste_on}), RunContext())
    method.fit(TrainData(pills, torch.zeros(8, dtype=torch.long), torch.zeros(8, 32, 32, dtype=torch.bool),
                         ["good"] * 8))
    assert seen
    if paste_on == "anywhere":
        assert all(r is None for r in seen)
    else:
        fg = foreground_masks(pills)
        assert all(r is not None and r.shape[0] <= 8 and r.float().mean() < 0.5 for r in seen)
        # every batch's regions are rows of the object masks of the whole training set
        rows = {tuple(m.flatten().tolist()) for m in fg}
        assert all(tuple(m.flatten().tolist()) in rows for r in seen for m in r)
