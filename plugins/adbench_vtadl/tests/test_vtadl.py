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
