"""MVTec LOCO: the adapter on a tree built in LOCO's exact layout, checked against anomalib's own
reader of that layout, `adbench data check`, and a run that scores AU-sPRO from the channels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adbench.config import DatasetSpec
from adbench.data.adapters import MVTecLOCO
from adbench.results.store import load_row
from conftest import one_dataset, run_cli, run_sleepy

CONFIG = [{"defect_name": "missing_banana", "pixel_value": 255, "saturation_threshold": 1.0,
           "relative_saturation": True},
          {"defect_name": "extra_part", "pixel_value": 254, "saturation_threshold": 30, "relative_saturation": False},
          {"defect_name": "scratch", "pixel_value": 253, "saturation_threshold": 0.5, "relative_saturation": True}]


def loco_tree(root: Path, category: str = "juice_bottle", size=(40, 32)) -> Path:
    """A tiny category in LOCO's layout: train/validation/test images, a logical image with two
    overlapping channels, a structural one with one, defects_config.json."""
    rng = np.random.default_rng(0)
    cat = root / category

    def image(path: Path, bright=None):
        a = (rng.random((size[1], size[0], 3)) * 60).astype(np.uint8)
        if bright is not None:
            a[bright] = 250
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(a).save(path)

    def channel(path: Path, value: int, box):
        a = np.zeros((size[1], size[0]), np.uint8)
        a[box] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(a).save(path)

    for i in range(6):
        image(cat / "train" / "good" / f"{i:03d}.png")
    for i in range(3):
        image(cat / "validation" / "good" / f"{i:03d}.png")
        image(cat / "test" / "good" / f"{i:03d}.png")
    for kind, boxes in (("logical_anomalies", [(np.s_[2:10, 3:12], 255), (np.s_[6:14, 8:20], 254)]),
                        ("structural_anomalies", [(np.s_[20:28, 5:9], 253)])):
        for i in range(2):
            image(cat / "test" / kind / f"{i:03d}.png", bright=boxes[0][0])
            for j, (box, value) in enumerate(boxes):
                channel(cat / "ground_truth" / kind / f"{i:03d}" / f"{j:03d}.png", value, box)
    (cat / "defects_config.json").write_text(json.dumps(CONFIG))
    return root


def test_the_adapter_reads_what_anomalibs_loco_reader_reads(tmp_path):
    datasets = pytest.importorskip("anomalib.data.datasets.image.mvtec_loco")
    root = loco_tree(tmp_path)
    ad = MVTecLOCO(DatasetSpec("loco", "mvtec_loco", root=str(root)))
    ours = {str(s.path): s for split in ("train", "validation", "test") for s in ad.samples("juice_bottle", split)}
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anomalib 2.7's reader assigns lists into a column of "": needs object dtype
        with pd.option_context("future.infer_string", False):
            theirs = datasets.make_dataset(root / "juice_bottle")
    assert set(ours) == set(theirs["image_path"])
    for _, r in theirs.iterrows():
        s = ours[r["image_path"]]
        assert s.label == r["label_index"]
        split = {"train": "train", "val": "validation", "test": "test"}[r["split"]]
        assert Path(r["image_path"]).parts[-3] == split
        if s.label:
            assert [str(p) for p in s.mask_files] == sorted(r["mask_path"]) and s.defect_type == r["label"]
    mask = ours[str(root / "juice_bottle/test/logical_anomalies/000.png")].load_mask((32, 40))
    assert mask.sum() == 8 * 9 + 8 * 12 - 4 * 4, "the union of the two overlapping channels"


def test_data_check_names_a_bad_channel_and_a_missing_config(tmp_path):
    root = loco_tree(tmp_path / "data")
    catalogue = one_dataset(tmp_path, "mvtec_loco", root, ["juice_bottle"])
    ok = run_cli(["data", "check", "mine", "--datasets", str(catalogue)])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = root / "juice_bottle" / "ground_truth" / "structural_anomalies" / "001" / "000.png"
    a = np.zeros((32, 40), np.uint8)
    a[0, 0] = 7  # a value defects_config.json does not list
    Image.fromarray(a).save(bad)
    res = run_cli(["data", "check", "mine", "--datasets", str(catalogue)])
    assert res.returncode != 0 and "pixel value 7" in res.stdout + res.stderr and "001" in res.stdout + res.stderr
    (root / "juice_bottle" / "defects_config.json").unlink()
    res = run_cli(["data", "check", "mine", "--datasets", str(catalogue)])
    assert res.returncode != 0 and "defects_config.json" in res.stdout + res.stderr
    assert "Traceback" not in res.stderr


def test_a_run_scores_au_spro_from_the_channels_as_the_official_code_does(tmp_path, test_plugin_site):
    from adbench.data.loading import load_samples
    from adbench.data.loco import read_channels, read_defects_config
    from adbench.protocol.evaluate import native_maps
    from test_spro import _every_threshold, _official_auc

    root = loco_tree(tmp_path / "data")
    res, out = run_sleepy(tmp_path, test_plugin_site, one_dataset(tmp_path, "mvtec_loco", root, ["juice_bottle"]))
    assert res.returncode == 0, res.stderr
    (row,) = [load_row(p) for p in (out / "cells").glob("*.json")]
    assert row["n_validation"] == 3 and row["threshold_pixel"] is not None, "LOCO's validation/good"
    assert set(row["per_defect"]) == {"logical_anomalies", "structural_anomalies"}
    by_type = row["au_spro_by_type"]
    assert set(by_type) == {"logical_anomalies", "structural_anomalies", "mean"}
    assert row["au_spro"] == pytest.approx(by_type["mean"]["0.05"])
    # the oracle: the test method's map is the channel mean at 32 px, upsampled as every native map is
    ad = MVTecLOCO(DatasetSpec("loco", "mvtec_loco", root=str(root)))
    test = ad.samples("juice_bottle", "test")
    maps = load_samples(test, 32, use_cache=False).float_images().mean(dim=1).numpy()
    native = list(native_maps(maps, test))
    config = read_defects_config(root / "juice_bottle" / "defects_config.json")
    for kind in ("logical_anomalies", "structural_anomalies"):
        images = [(m.astype(np.float64), read_channels(s.mask_path, config) if s.label else [])
                  for m, s in zip(native, test) if s.defect_type in ("good", kind)]
        for limit in ("0.01", "0.05", "0.1", "0.3", "1"):
            want = _official_auc(images, _every_threshold(images), float(limit))
            assert by_type[kind][limit] == pytest.approx(want, abs=1e-6), (kind, limit)

