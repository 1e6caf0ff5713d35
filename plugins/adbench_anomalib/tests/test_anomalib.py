"""anomalib models: the shared contract at ``smoke`` with random weights, offline builds,
the timm weights flow, fitted-state costs and DRAEM's anomaly source."""

from __future__ import annotations

import pytest

pytest.importorskip("anomalib", reason="the anomalib extra is not installed: pip install -e '.[anomalib]'")

import torch  # noqa: E402
from pathlib import Path  # noqa: E402

from adbench import RunContext, registry  # noqa: E402
from adbench.testing import MethodContractTests, tiny_synthetic_split  # noqa: E402


class TestPatchCore(MethodContractTests):
    method_name = "anomalib_patchcore"


class TestPaDiM(MethodContractTests):
    method_name = "anomalib_padim"


class TestSTFPM(MethodContractTests):
    method_name = "anomalib_stfpm"


class TestFastFlow(MethodContractTests):
    method_name = "anomalib_fastflow"


class TestDRAEM(MethodContractTests):
    method_name = "anomalib_draem"


NAMES = ("anomalib_patchcore", "anomalib_padim", "anomalib_stfpm", "anomalib_fastflow", "anomalib_draem",
         "anomalib_efficientad")


def _build(name: str, profile: str = "smoke", **overrides):
    cls = registry.methods().get(name).obj
    torch.manual_seed(0)
    method = cls(cls.config_for(profile, overrides), RunContext(profile=profile))
    method.build()
    return method


def _no_network(monkeypatch) -> list[str]:
    """Every way these libraries fetch files, made to fail loudly and be counted."""
    import huggingface_hub
    import timm.models._hub
    from anomalib.models.image.draem import lightning_model as draem

    calls: list[str] = []

    def refuse(what):
        def fetch(*args, **kwargs):
            calls.append(what)
            raise AssertionError(f"{what} reached for the network")
        return fetch

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", refuse("hf_hub_download"))
    monkeypatch.setattr(timm.models._hub, "hf_hub_download", refuse("timm hf_hub_download"), raising=False)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse("torch.hub"))
    monkeypatch.setattr(draem, "download_and_extract", refuse("DTD download"))
    return calls


@pytest.mark.parametrize("name", NAMES)
def test_paper_networks_build_offline_with_random_backbones(name, monkeypatch):
    """anomalib asks timm for pretrained backbones (STFPM's teacher always); adbench builds them
    with random weights instead and never fetches anything."""
    calls = _no_network(monkeypatch)
    overrides = {"pretrained": False} if name != "anomalib_draem" else {"anomaly_source": "perlin"}
    method = _build(name, "paper", **overrides)
    assert calls == []
    assert method.backbone_weights() in ("random", "random teacher", "none (trained from scratch)")


def _fake_timm_file(cache, model_name: str) -> dict:
    """A timm checkpoint (random values) in the Hugging Face cache layout timm's own download writes."""
    import timm
    from safetensors.torch import save_file

    from adbench.weights import timm_weights

    w = timm_weights(model_name)
    folder = cache / f"models--{w.repo_id.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("0" * 40)
    (folder / "snapshots" / ("0" * 40)).mkdir(parents=True)
    torch.manual_seed(123)
    state = timm.create_model(model_name, pretrained=False).state_dict()
    save_file(state, str(folder / "snapshots" / ("0" * 40) / "model.safetensors"))
    return state


def test_pretrained_backbone_comes_from_the_cache_and_is_recorded(tmp_path, monkeypatch):
    """``pretrained=true`` loads timm's file for resnet18 from the hub cache through
    ``adbench.weights`` (no download), into STFPM's teacher only, with its sha256 recorded."""
    from adbench import weights

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    calls = _no_network(monkeypatch)
    state = _fake_timm_file(tmp_path, "resnet18")
    cls = registry.methods().get("anomalib_stfpm").obj
    cfg = cls.config_for("smoke", {"pretrained": True})
    assert [w.name for w in cls.required_weights(cfg)] == ["timm:resnet18.a1_in1k"]
    weights.start_recording()
    method = _build("anomalib_stfpm", pretrained=True)
    net = method.model().model
    assert torch.equal(net.teacher_model.feature_extractor.conv1.weight, state["conv1.weight"])
    assert not torch.equal(net.student_model.feature_extractor.conv1.weight, state["conv1.weight"])
    [used] = weights.recorded()
    assert used["name"] == "timm:resnet18.a1_in1k" and len(used["sha256"]) == 64
    assert method.backbone_weights() == "timm:resnet18.a1_in1k" and calls == []


def test_a_missing_backbone_file_fails_before_building_with_both_fixes(tmp_path, monkeypatch):
    from adbench.weights import WeightsMissing, require

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    cls = registry.methods().get("anomalib_patchcore").obj
    [needed] = cls.required_weights(cls.config_for("paper"))
    with pytest.raises(WeightsMissing, match="adbench weights download anomalib_patchcore.*pretrained=false"):
        require(needed, "anomalib_patchcore")


def test_memory_bank_costs_are_profiled_on_each_fitted_bank(tmp_path, monkeypatch):
    """PatchCore's cost follows its bank, whose size follows the training set: two banks of
    different sizes get two profiles (never one shared cache entry), each on the fitted model."""
    from adbench.protocol.costs import cell_costs

    monkeypatch.setenv("ADBENCH_CACHE", str(tmp_path / "cache"))
    train, _ = tiny_synthetic_split(tmp_path / "data", 32)
    profiles = []
    for n in (8, 4):
        method = _build("anomalib_patchcore")
        method.fit(type(train)(train.images[:n], train.labels[:n], train.masks[:n], train.defect_types[:n]))
        state = method.fitted_state()
        out = cell_costs(type(method), method.cfg, "smoke", "cpu", 1, fitted=method.model(), fitted_state=state)
        again = cell_costs(type(method), method.cfg, "smoke", "cpu", 1, fitted=method.model(), fitted_state=state)
        profiles.append((state["memory_bank"][0], out, again))
    (big, first, first_again), (small, second, _) = profiles
    assert big > small
    assert not first["cached"] and not second["cached"] and first_again["cached"]
    assert f"memory_bank {big}x" in first["summary"]["profiled_weights"]
    assert f"memory_bank {small}x" in second["summary"]["profiled_weights"]


def test_the_model_works_before_fit_and_fit_replaces_the_blank_bank(tmp_path):
    train, test = tiny_synthetic_split(tmp_path, 32)
    method = _build("anomalib_patchcore")
    blank = method.fitted_state()["memory_bank"][0]
    method.fit(train)
    assert method.fitted_state()["memory_bank"][0] > blank
    out = method.model()(test.float_images()[:2])
    assert out.anomaly_maps.shape == (2, 32, 32)


def test_draem_reads_dtd_from_the_catalogue_or_says_how_to_get_it(tmp_path, monkeypatch):
    from PIL import Image

    from adbench.data.sample import DatasetError

    from adbench_anomalib.sources import anomaly_source

    dtd = tmp_path / "dtd" / "images" / "banded"
    dtd.mkdir(parents=True)
    catalogue = tmp_path / "datasets.toml"
    catalogue.write_text(f'[dtd]\nadapter = "textures"\nroot = "{tmp_path / "dtd"}"\n')
    monkeypatch.setenv("ADBENCH_DATASETS", str(catalogue))
    with pytest.raises(DatasetError, match="no images under .*adbench data download dtd"):
        anomaly_source("dtd")
    for i in range(2):
        Image.new("RGB", (8, 8), (i * 100, 0, 0)).save(dtd / f"banded_{i}.jpg")
    folder, note = anomaly_source("dtd")
    assert folder == str(tmp_path / "dtd")
    assert note.endswith("(2 images)")
    fallback, note = anomaly_source("perlin")
    assert "perlin" in note
    assert not any(Path(fallback).iterdir())  # an empty folder: anomalib's Perlin texture, no download


def test_without_anomalib_the_plugin_registers_nothing(monkeypatch):
    import adbench_anomalib

    monkeypatch.setattr(adbench_anomalib, "find_spec", lambda name: None)
    registered: list = []
    adbench_anomalib.adbench_register_methods(registered.append)
    assert registered == []


def test_run_patchcore_and_padim_at_smoke_writes_rows_with_every_metric_and_cost(tmp_path):
    """The issue's acceptance command, offline: rows with all metrics, costs on the fitted bank,
    the bank's shape, random-backbone provenance and an ONNX check of each fitted model."""
    import json
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "adbench", "run", "anomalib_patchcore", "anomalib_padim",
                          "--profile", "smoke", "--category", "wood", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Selecting Coreset" not in res.stderr  # anomalib's own bars stay hidden behind adbench's
    rows = {r["method"]: r for r in (json.loads(p.read_text()) for p in (tmp_path / "cells").glob("*.json"))}
    assert set(rows) == {"anomalib_patchcore", "anomalib_padim"}
    for row in rows.values():
        assert row["status"] == "ok"
        # every metric, but AUPIMO (at 32 px the 30 normal test images hold too few pixels to reach FPR
        # 1e-5) and AU-sPRO (the synthetic set has no ground-truth channels), each null with its reason
        unscored = {"aupimo", "au_spro"}
        assert all(v is not None for k, v in row["metrics"].items() if not k.endswith("_ci") and k not in unscored), \
            row["metrics"]
        assert unscored >= {k for k, v in row["metrics"].items() if v is None and not k.endswith("_ci")}
        assert "mvtec_loco" in row["extra"]["metric_null_reasons"]["au_spro"]
        costs = row["costs"]
        assert costs["latency_ms"] > 0 and costs["gflops"] > 0 and costs["params_inference"] > 0
        assert costs["onnx_ok"] is True and costs["profiled_weights"].startswith("this cell's fitted model")
        assert row["extra"]["fit_notes"]["backbone_weights"] == "random"
    assert rows["anomalib_patchcore"]["extra"]["fitted_state"]["memory_bank"][1] == 384


class TestEfficientAD(MethodContractTests):
    method_name = "anomalib_efficientad"
    #: one training step instead of smoke's two: a 256-px step takes about 7 s on 2 CPU cores, and
    #: the contract fits three times (its fixture and the determinism check's two fits)
    overrides = {"steps": 1}


def test_efficientad_teacher_comes_from_its_archive_through_adbench_weights(tmp_path, monkeypatch):
    """``adbench weights download`` fetches the published archive (a local one here), checks its
    sha256 and extracts it into adbench's cache; building with ``pretrained`` loads the teacher
    from there, records it, and never calls anomalib's own download."""
    import hashlib
    import zipfile

    from anomalib.models.image.efficient_ad.torch_model import EfficientAdModel

    from adbench import weights
    from adbench_anomalib import efficientad

    monkeypatch.setenv("ADBENCH_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(7)
    teacher = EfficientAdModel(teacher_out_channels=384, model_size="small").teacher.state_dict()
    pth = tmp_path / "pretrained_teacher_small.pth"
    torch.save(teacher, pth)
    archive = tmp_path / "efficientad_pretrained_weights.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(pth, "efficientad_pretrained_weights/pretrained_teacher_small.pth")
    monkeypatch.setattr(efficientad, "TEACHER_ARCHIVE", archive.as_uri())
    monkeypatch.setattr(efficientad, "TEACHER_SHA256", hashlib.sha256(archive.read_bytes()).hexdigest())
    cls = registry.methods().get("anomalib_efficientad").obj
    [w] = cls.required_weights(cls.config_for("paper"))
    assert w.cached() is None
    assert w.download() == w.cached() and w.cached().name == "pretrained_teacher_small.pth"
    calls = _no_network(monkeypatch)
    weights.start_recording()
    method = _build("anomalib_efficientad", "smoke", pretrained=True)
    got = method.model().model.teacher.state_dict()
    assert all(torch.equal(got[k], v) for k, v in teacher.items())
    assert [r["name"] for r in weights.recorded()] == ["anomalib:efficientad_teacher_small"] and calls == []


def test_efficientad_normalises_maps_on_held_out_normal_training_images(tmp_path, monkeypatch):
    """The map quantiles come from a seeded tenth of the normal training images, which the
    student never trains on; the test split is never seen by fit."""
    from adbench_anomalib.efficientad import EfficientAD

    train, _ = tiny_synthetic_split(tmp_path, 256)
    seen = {}
    original = EfficientAD._set_quantiles

    def spy(inner, images):
        seen["images"] = images
        original(inner, images)

    monkeypatch.setattr(EfficientAD, "_set_quantiles", staticmethod(spy))
    method = _build("anomalib_efficientad")
    report = method.fit(train)
    assert report.notes["n_validation"] == 1 and report.notes["validation"] == "held-out normal training images"
    assert any(torch.equal(seen["images"][0], img) for img in train.normal.images)
    assert bool(method.model().model.is_set(method.model().model.quantiles))
    assert report.notes["penalty_source"].startswith("noise")


def test_efficientad_penalty_images_come_from_imagenette_in_the_catalogue(tmp_path, monkeypatch):
    from PIL import Image

    from adbench_anomalib.sources import PenaltyImages

    folder = tmp_path / "imagenette" / "train" / "n01440764"
    folder.mkdir(parents=True)
    for i in range(3):
        Image.new("RGB", (40, 30), (i * 80, 10, 10)).save(folder / f"{i}.JPEG")
    catalogue = tmp_path / "datasets.toml"
    catalogue.write_text(f'[imagenette]\nadapter = "textures"\nroot = "{tmp_path / "imagenette"}"\n')
    monkeypatch.setenv("ADBENCH_DATASETS", str(catalogue))
    images = PenaltyImages("imagenette", 16, torch.Generator().manual_seed(0))
    batch = next(images)
    assert batch.shape == (1, 3, 16, 16) and 0 <= float(batch.min()) and float(batch.max()) <= 1
    assert images.describe().endswith("(3 images)")


def test_efficientad_is_left_out_of_all_with_a_note_and_runs_when_named():
    from adbench.config import load_catalogue
    from adbench.protocol.plan import plan_cells

    def plan(methods):
        return plan_cells(methods, load_catalogue(), datasets=["synthetic"], categories=["wood"], track=None,
                          profile="smoke", seeds=[0])

    cells, notes = plan(["all"])
    assert "anomalib_efficientad" not in {c.method for c in cells} and "anomalib_patchcore" in {c.method for c in cells}
    assert any(n.startswith("anomalib_efficientad is not part of `all`: one 256-px training step") for n in notes)
    cells, notes = plan(["all", "anomalib_efficientad"])
    assert "anomalib_efficientad" in {c.method for c in cells} and not any("efficientad" in n for n in notes)
