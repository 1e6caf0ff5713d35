"""Published pretrained weights (#20): found in the libraries' caches, loaded, recorded with
their sha256, fetched by `adbench weights download`, and a missing file stops a cell before
training with one line. Every file here is a fake the test builds; nothing reaches the network."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from adbench import weights
from conftest import run_cli


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fake_torchvision_file(torch_home: Path, enum_name: str) -> Path:
    """A random-weights state dict of the right architecture where torch.hub caches ``enum_name``."""
    import torchvision

    arch = {"ResNet18": "resnet18", "VGG11": "vgg11", "ResNet50": "resnet50"}[enum_name.split("_")[0]]
    path = torch_home / "hub" / "checkpoints" / weights.torchvision_weights(enum_name).filename
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(getattr(torchvision.models, arch)(weights=None).state_dict(), path)
    return path


def test_a_cached_torchvision_file_is_found_loaded_and_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    w = weights.torchvision_weights("ResNet18_Weights.IMAGENET1K_V1")
    assert w.cached() is None
    with pytest.raises(weights.WeightsMissing) as err:
        weights.require(w, "piade")
    message = str(err.value)
    assert "\n" not in message and w.filename in message and str(w.location()) in message
    assert "adbench weights download piade" in message and "--set pretrained=false" in message
    path = _fake_torchvision_file(tmp_path, "ResNet18_Weights.IMAGENET1K_V1")
    assert w.cached() == path
    weights.start_recording()
    state = weights.load_state_dict(w)
    assert "conv1.weight" in state
    assert weights.recorded() == [{"name": w.name, "file": str(path), "sha256": _sha(path)}]


def test_download_goes_through_torch_hub_into_its_cache(tmp_path, monkeypatch):
    """The real download path (torch.hub with its hash check), from a local file:// URL."""
    source = tmp_path / "server"
    source.mkdir()
    blob = source / "payload.pth"
    torch.save({"w": torch.arange(4.0)}, blob)
    named = source / f"fake-{_sha(blob)[:8]}.pth"  # torch.hub checks the hash prefix in the name
    blob.rename(named)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    w = weights.Weights("torchvision:Fake", "torchvision", url=named.as_uri(), filename=named.name)
    assert w.cached() is None
    path = w.download()
    assert path == w.cached() and _sha(path) == _sha(named)
    assert torch.equal(weights.load_state_dict(w)["w"], torch.arange(4.0))


def test_smp_encoder_weights_are_read_from_the_hugging_face_cache_layout(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    w = weights.smp_encoder_weights("resnet18")
    assert w.cached() is None and w.repo_id == "smp-hub/resnet18.imagenet" and len(w.revision) == 40
    from safetensors.torch import save_file
    from segmentation_models_pytorch.encoders import get_encoder

    snapshot = tmp_path / f"models--{w.repo_id.replace('/', '--')}" / "snapshots" / w.revision
    snapshot.mkdir(parents=True)
    encoder = get_encoder("resnet18", weights=None)
    save_file(encoder.state_dict(), str(snapshot / "model.safetensors"))
    assert w.cached() == snapshot / "model.safetensors"
    assert set(weights.load_state_dict(w)) == set(encoder.state_dict())


def test_a_method_loads_its_pretrained_parts_from_the_cache(tmp_path, monkeypatch):
    """PIADE with ``pretrained``: the ResNet backbone and the perceptual VGG11 hold the files'
    values, and the method declares both files."""
    from adbench import RunContext, registry

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    resnet = _fake_torchvision_file(tmp_path, "ResNet18_Weights.IMAGENET1K_V1")
    vgg = _fake_torchvision_file(tmp_path, "VGG11_Weights.IMAGENET1K_V1")
    cls = registry.methods().get("piade").obj
    cfg = cls.config_for("smoke", {"pretrained": True})
    assert [w.name for w in cls.required_weights(cfg)] == ["torchvision:VGG11_Weights.IMAGENET1K_V1",
                                                           "torchvision:ResNet18_Weights.IMAGENET1K_V1"]
    model = cls(cfg, RunContext()).model()
    state = torch.load(resnet, weights_only=True)
    assert torch.equal(model.net.backbone.stem[0].weight, state["conv1.weight"])
    assert torch.equal(model.perceptual.features[0].weight, torch.load(vgg, weights_only=True)["features.0.weight"])
    assert model.perceptual.backbone == "vgg11_features4_imagenet"


def test_fcn_and_segnet_map_torchvision_vgg16_weights_onto_their_layers():
    from torchvision.models import vgg16, vgg16_bn

    from adbench_segmentation.nets import FCN32s, SegNet

    ref = vgg16(weights=None)
    fcn = FCN32s(1, reference_padding=True, learn_upscore=False)
    fcn.load_vgg16(ref.state_dict())
    assert torch.equal(fcn.features[28].weight, ref.features[28].weight)
    assert torch.equal(fcn.fc6[0].weight.flatten(1), ref.classifier[0].weight)
    assert torch.equal(fcn.fc7[0].weight.flatten(1), ref.classifier[3].weight)
    ref_bn = vgg16_bn(weights=None)
    with torch.no_grad():
        ref_bn.features[1].running_mean.uniform_()
    seg = SegNet(1)
    seg.load_vgg16_bn(ref_bn.state_dict())
    assert torch.equal(seg.enc[0][0].weight, ref_bn.features[0].weight)
    assert torch.equal(seg.enc[0][1].running_mean, ref_bn.features[1].running_mean)
    assert torch.equal(seg.enc[4][6].weight, ref_bn.features[40].weight)  # the 13th convolution
    with pytest.raises(ValueError, match="width_div=1"):
        SegNet(1, width_div=4).load_vgg16_bn(ref_bn.state_dict())


def test_run_without_the_cached_file_fails_before_training_with_one_line(tmp_path):
    out = tmp_path / "run"
    res = run_cli(["run", "piade", "--profile", "smoke", "--category", "fabric", "--set", "pretrained=true",
                   "--out", str(out)], env={"TORCH_HOME": str(tmp_path / "empty")})
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    failed = [line for line in res.stderr.splitlines() if line.startswith("FAILED piade")]
    assert len(failed) == 1, res.stderr
    assert "torchvision:VGG11_Weights.IMAGENET1K_V1 is not cached" in failed[0]
    assert "vgg11-8a719046.pth" in failed[0]
    assert "WeightsMissing" in failed[0] and "adbench weights download piade" in failed[0]
    assert "--set pretrained=false" in failed[0] and str(tmp_path / "empty") in failed[0]
    row = json.loads(next((out / "cells").glob("*.json")).read_text())
    assert row["status"] == "error" and "fit_epochs" not in json.dumps(row.get("extra", row))


def test_run_with_cached_files_records_them_with_their_sha256(tmp_path):
    home = tmp_path / "torch"
    files = [_fake_torchvision_file(home, e) for e in ("ResNet18_Weights.IMAGENET1K_V1", "VGG11_Weights.IMAGENET1K_V1")]
    out = tmp_path / "run"
    env = {"TORCH_HOME": str(home)}
    res = run_cli(["run", "piade", "--profile", "smoke", "--category", "fabric", "--set", "pretrained=true",
                   "--out", str(out)], env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    from adbench.results.store import load_rows

    row = load_rows([out]).iloc[0]
    assert row["fidelity"] == "faithful"
    recorded = {r["file"]: r["sha256"] for r in row["pretrained_weights"]}
    assert recorded == {str(f): _sha(f) for f in files}
    listing = run_cli(["weights", "list", "piade", "--profile", "smoke"], env=env)
    assert listing.returncode == 0 and "no method selected" in listing.stdout  # smoke needs none by default
    listing = run_cli(["weights", "list", "piade"], env=env)  # paper: VGG11 cached, ResNet-50 missing
    assert f"cached {files[1]} sha256 {_sha(files[1])}" in listing.stdout
    assert "MISSING" in listing.stdout and "resnet50" in listing.stdout


def test_cost_profiles_need_no_weights_file(tmp_path, monkeypatch):
    """Costs do not depend on weight values: a ``pretrained`` configuration is profiled on fresh
    seed-0 weights, so `adbench profile` works on a machine without the files."""
    from adbench import registry
    from adbench.costs.measure import _pipeline

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cls = registry.methods().get("piade").obj
    model, source = _pipeline(cls, cls.config_for("smoke", {"pretrained": True}), None, "smoke")
    assert source.startswith("random init") and model.perceptual.backbone == "vgg11_features4_random_frozen"
