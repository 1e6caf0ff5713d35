"""MVTec AD 2, MPDD and KSDD2 adapters on trees built in each release's exact layout, checked
against anomalib's own readers where anomalib has one (MVTec AD 2, MPDD)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from adbench.config import DatasetSpec
from adbench.data.adapters import KSDD2, MPDD, MVTecAD2
from adbench.data.sample import DatasetError
from adbench.results.store import load_row
from conftest import one_dataset, run_sleepy
from test_datasets import img as _img  # the layout tests' own image and mask writers
from test_datasets import mask as _mask


def ad2_tree(root: Path, category="can") -> Path:
    cat = root / category
    for i in range(4):
        _img(cat / "train" / "good" / f"{i:03d}_regular.png")
    for i in range(3):
        _img(cat / "validation" / "good" / f"{i:03d}_regular.png")
        _img(cat / "test_public" / "good" / f"{i:03d}_regular.png")
        _img(cat / "test_public" / "bad" / f"{i:03d}_regular.png")
        _mask(cat / "test_public" / "ground_truth" / "bad" / f"{i:03d}_regular_mask.png")
    _img(cat / "test_private" / "000_regular.png")
    _img(cat / "test_private_mixed" / "000_overexposed.png")
    return root


def _anomalib(reader, *args, **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pd.option_context("future.infer_string", False):  # anomalib 2.7's readers predate pandas 3's str dtype
            return reader(*args, **kwargs)


def test_mvtec_ad2_reads_what_anomalibs_reader_reads_and_leaves_the_private_sets_out(tmp_path):
    mod = pytest.importorskip("anomalib.data.datasets.image.mvtecad2")
    root = ad2_tree(tmp_path)
    ad = MVTecAD2(DatasetSpec("ad2", "mvtec_ad2", root=str(root)))
    ours = {split: ad.samples("can", split) for split in ("train", "validation", "test")}
    theirs = _anomalib(mod.make_mvtec2_dataset, root / "can")
    for split, want in (("train", "train"), ("validation", "val"), ("test", "test")):
        rows = theirs[theirs["split"] == want]
        assert sorted(str(s.path) for s in ours[split]) == sorted(rows["image_path"])
        masks = {r["image_path"]: r["mask_path"] for _, r in rows.iterrows()}
        for s in ours[split]:
            assert s.label == int(rows[rows["image_path"] == str(s.path)]["label_index"].iloc[0])
            assert (str(s.mask_path) if s.mask_path else None) == masks[str(s.path)]
    assert not any("private" in str(s.path) for s in ours["test"])
    (root / "can" / "test_public" / "ground_truth" / "bad" / "001_regular_mask.png").unlink()
    with pytest.raises(DatasetError, match="001_regular_mask.png"):
        ad.samples("can", "test")


def test_mpdd_takes_both_mask_namings_as_anomalib_does(tmp_path):
    mod = pytest.importorskip("anomalib.data.datasets.image.mpdd")
    cat = tmp_path / "tubes"
    for i in range(3):
        _img(cat / "train" / "good" / f"{i:03d}.png")
    _img(cat / "test" / "good" / "000.png")
    for i, name in enumerate(("{}_mask.png", "{}.png")):
        _img(cat / "test" / "anomalous" / f"{i:03d}.png")
        _mask(cat / "ground_truth" / "anomalous" / name.format(f"{i:03d}"))
    ad = MPDD(DatasetSpec("mpdd", "mpdd", root=str(tmp_path)))
    ours = {str(s.path): s for split in ("train", "test") for s in ad.samples("tubes", split)}
    theirs = _anomalib(mod.make_mpdd_dataset, cat)
    assert set(ours) == set(theirs["image_path"])
    for _, r in theirs.iterrows():
        s = ours[r["image_path"]]
        assert s.label == r["label_index"] and (str(s.mask_path) if s.mask_path else None) == r["mask_path"]


def test_ksdd2_labels_by_its_ground_truth_and_names_a_missing_one(tmp_path):
    for split, n in (("train", 4), ("test", 3)):
        for i in range(n):
            _img(tmp_path / split / f"{10 * i}.png")
            _mask(tmp_path / split / f"{10 * i}_GT.png", empty=i % 2 == 0)
    ad = KSDD2(DatasetSpec("ksdd2", "ksdd2", root=str(tmp_path)))
    train, test = ad.samples("ksdd2", "train"), ad.samples("ksdd2", "test")
    assert [s.label for s in train] == [0, 1, 0, 1] and [s.label for s in test] == [0, 1, 0]
    assert all(s.mask_path.name == f"{s.path.stem}_GT.png" for s in train + test)
    assert [s.defect_type for s in test] == ["good", "defect", "good"]
    (tmp_path / "test" / "20_GT.png").unlink()
    with pytest.raises(DatasetError, match="20_GT.png"):
        ad.samples("ksdd2", "test")
    with pytest.raises(DatasetError, match="one category"):
        ad.samples("bottle", "test")


def test_a_run_on_mvtec_ad2_scores_its_defaults_au_pro_005_and_seg_f1(tmp_path, test_plugin_site):
    root = ad2_tree(tmp_path / "data")
    res, out = run_sleepy(tmp_path, test_plugin_site, one_dataset(tmp_path, "mvtec_ad2", root, ["can"]))
    assert res.returncode == 0, res.stderr
    (row,) = [load_row(p) for p in (out / "cells").glob("*.json")]
    assert row["n_test"] == 6 and row["n_validation"] == 3
    assert row["au_pro_005"] is not None and row["seg_f1"] is not None and row["threshold_pixel"] is not None
