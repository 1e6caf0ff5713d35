"""Segmentation baselines: contract, reference parameter counts, the anomaly paster."""

from __future__ import annotations

import pytest
import torch

from adbench import RunContext, registry
from adbench.augment import paste_anomalies, perlin_mask
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
    cls = registry.methods().get(name).obj
    return cls(cls.config_for("paper"), RunContext()).model().net


@pytest.mark.parametrize("name, reference", [("unet_ronneberger", 31.0e6), ("unet2", 31.0e6), ("segnet", 29.4e6)])
def test_parameter_counts_within_5_percent(name, reference):
    assert count_parameters(_paper_net(name))["params"] == pytest.approx(reference, rel=0.05)


def test_fcn32s_vgg16_21_classes_and_anomaly_head():
    from adbench_segmentation.nets import FCN32s

    n21 = count_parameters(FCN32s(classes=21))["params"]
    assert n21 == pytest.approx(134e6, rel=0.05)
    n1 = count_parameters(_paper_net("fcn32s"))["params"]
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


def test_perlin_masks_are_blobs_not_the_test_set_shapes():
    gen = torch.Generator().manual_seed(1)
    masks = perlin_mask(16, 64, gen)
    frac = masks.flatten(1).mean(1)
    assert (frac > 0).all() and (frac < 0.6).all()
