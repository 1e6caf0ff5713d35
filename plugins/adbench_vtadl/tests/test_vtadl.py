"""VT-ADL: contract, mixture NLL against torch.distributions, gradients, published sizes."""

from __future__ import annotations

import pytest
import torch
from torch import distributions as D

from adbench import RunContext, registry
from adbench.costs.size import count_parameters
from adbench.testing import MethodContractTests
from adbench_vtadl.mdn import MDN, authors_nll, component_nll, mixture_nll


class TestVTADL(MethodContractTests):
    method_name = "vtadl"


class TestVTADLAuthorsScore(MethodContractTests):
    """The authors' image score (MSE − SSIM + max patch NLL) and loss also satisfy the contract."""

    method_name = "vtadl"
    overrides = {"score": "authors", "mdn_loss": "authors"}


def test_mixture_nll_matches_mixture_same_family():
    torch.manual_seed(0)
    mdn = MDN(dim=6, components=4)
    h = torch.randn(5, 3, 6).abs()
    x = torch.randn(5, 3, 6)
    log_pi, mu, log_var = mdn(h)
    dist = D.MixtureSameFamily(D.Categorical(logits=log_pi),
                               D.Independent(D.Normal(mu, torch.exp(0.5 * log_var)), 1))
    torch.testing.assert_close(mixture_nll(x, log_pi, mu, log_var), -dist.log_prob(x), rtol=1e-5, atol=1e-5)


def test_authors_loss_is_the_weighted_component_nll_and_bounds_the_mixture():
    torch.manual_seed(1)
    mdn = MDN(dim=4, components=3)
    h = torch.rand(7, 4)
    params = mdn(h)
    expected = (params[0].exp() * component_nll(h, params[1], params[2])).sum(-1)
    torch.testing.assert_close(authors_nll(h, *params), expected)
    assert (authors_nll(h, *params) >= mixture_nll(h, *params) - 1e-5).all()  # Jensen


def test_gradients_reach_every_parameter():
    from adbench_vtadl.training import vtadl_loss

    cls = registry.methods().get("vtadl").obj
    cfg = cls.config_for("smoke")
    model = cls(cfg, RunContext()).model().train()
    loss = vtadl_loss(model, torch.rand(2, 3, 32, 32), cfg, torch.Generator().manual_seed(0))
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, missing


def test_paper_profile_matches_published_sizes():
    cls = registry.methods().get("vtadl").obj
    cfg = cls.config_for("paper")
    assert (cfg["image_size"], cfg["patch_size"], cfg["dim"], cfg["depth"], cfg["heads"], cfg["mlp_dim"]) == \
        (512, 64, 512, 6, 8, 1024)
    assert (cfg["lr"], cfg["weight_decay"], cfg["batch_size"], cfg["epochs"], cfg["gaussians"]) == (1e-4, 1e-4, 8, 400, 10)
    m = cls(cfg, RunContext()).model()
    assert count_parameters(m.encoder)["params"] == pytest.approx(18.9e6, rel=0.01)
    assert count_parameters(m.caps)["params"] == 4096 * 512 * 8
    assert count_parameters(m.mdn)["params"] == pytest.approx(5.2e6, rel=0.02)
    assert count_parameters(m)["params"] == pytest.approx(41.1e6, rel=0.01)
    sizes = [8]
    for layer in m.decoder.net:
        if isinstance(layer, torch.nn.ConvTranspose2d):
            k, s, p = layer.kernel_size[0], layer.stride[0], layer.padding[0]
            sizes.append((sizes[-1] - 1) * s - 2 * p + k)
    assert sizes == [8, 15, 49, 245, 497, 502, 512]


def _authors_decoder_count() -> int:
    """The authors' decoder2 (model_res18.py), counted from its layers: 0.142 M."""
    deconv = [(8, 16, 3), (16, 32, 9), (32, 32, 7), (32, 16, 9), (16, 8, 6), (8, 3, 11)]
    return sum(a * b * k * k + b for a, b, k in deconv) + sum(2 * b for _, b, _ in deconv[:-1])


def test_paper_profile_counts_match_the_authors_network():
    """No published count: the authors' VT_AE + MDN counted from their layers (ViT 18.9 M,
    DigitCaps 16.8 M, decoder 0.142 M, MDN 5.2 M with 10 Gaussians)."""
    cls = registry.methods().get("vtadl").obj
    with torch.device("meta"):
        m = cls(cls.config_for("paper"), RunContext()).build_model()
    block = 2 * 1024 + 512 * 1536 + (512 * 512 + 512) + (512 * 1024 + 1024) + (1024 * 512 + 512)
    vit = (12288 * 512 + 512) + 65 * 512 + 512 + 6 * block
    mdn = 512 * 10 + 2 * 512 * 512 * 10
    assert count_parameters(m.decoder)["params"] == _authors_decoder_count() == 142_099
    assert count_parameters(m)["params"] == pytest.approx(vit + 4096 * 512 * 8 + _authors_decoder_count() + mdn,
                                                          rel=0.005)


def test_paper_profile_follows_the_authors_code():
    cls = registry.methods().get("vtadl").obj
    torch.manual_seed(0)
    m = cls(cls.config_for("paper"), RunContext()).build_model()
    assert not m.squash_input and m.caps.detach_intermediate and m.align_corners and m.decoder.align_corners
    assert m.target_range == "01" and m.data_range == 1.0
    x = torch.rand(2, 3, 4, 4)
    assert torch.equal(m.target(x), x)
    # N(0, 1) embeddings (not zeros / 0.02·N) and He-normal Linear weights with zero biases
    assert m.encoder.cls.detach().abs().sum() > 0 and 0.8 < float(m.encoder.pos.detach().std()) < 1.2
    qkv = m.encoder.blocks[0].attn.qkv.weight.detach()
    assert float(qkv.std()) == pytest.approx((2 / qkv.shape[1]) ** 0.5, rel=0.05)
    assert torch.count_nonzero(m.encoder.embed.bias) == 0
    decoder = [(layer.kernel_size[0], layer.stride[0], layer.padding[0]) for layer in m.decoder.net
               if isinstance(layer, torch.nn.ConvTranspose2d)]
    assert decoder == [(3, 2, 1), (9, 3, 1), (7, 5, 1), (9, 2, 0), (6, 1, 0), (11, 1, 0)]


def test_quick_keeps_the_choices_it_was_tuned_with():
    cfg = registry.methods().get("vtadl").obj.config_for("quick")
    assert (cfg["squash_input"], cfg["detach_routing"], cfg["init"], cfg["embed_init"], cfg["align_corners"],
            cfg["target_range"]) == (True, False, "default", "vit", False, "pm1")
