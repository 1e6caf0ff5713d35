"""Metrics at one operating point: PG5/PB5 against anomalib's own code, image F1/precision/recall
and SegF1 at the validation threshold against scikit-learn and hand-computed cases, the
threshold rule, validation splits, and the whole path from ``adbench run`` to the report."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from adbench.metrics import MetricError, PixelEvaluator
from adbench.metrics import operating as op
from adbench.metrics.spec import MetricSpec, builtin_metrics
from adbench.results.store import load_row
from conftest import one_dataset, run_cli


def _score_sets():
    rng = np.random.default_rng(3)
    yield rng.random(40), (rng.random(40) < 0.4).astype(int)                       # continuous
    yield rng.integers(0, 5, 60).astype(float), (rng.random(60) < 0.5).astype(int)  # many ties
    yield np.r_[np.zeros(10), np.ones(7)], np.r_[np.zeros(10), np.ones(7)].astype(int)  # separated
    yield np.full(12, 0.5), np.r_[np.zeros(6), np.ones(6)].astype(int)             # constant


@pytest.mark.parametrize("rate", [0.0, 0.05, 0.2, 0.5, 1.0])
def test_pgn_and_pbn_equal_anomalibs_own_metrics(rate):
    torch = pytest.importorskip("torch")
    pg_pb = pytest.importorskip("anomalib.metrics.pg_pb")
    for scores, labels in _score_sets():
        scores = scores.astype(np.float32).astype(np.float64)  # anomalib computes in float32 and returns a float32 rate
        pg, pb = pg_pb._PGn(fnr=rate), pg_pb._PBn(fpr=rate)
        for m in (pg, pb):
            m.update(torch.tensor(scores, dtype=torch.float32), torch.tensor(labels))
        assert op.presorted_good(scores, labels, rate) == pytest.approx(float(pg.compute()), abs=1e-7)
        assert op.presorted_bad(scores, labels, rate) == pytest.approx(float(pb.compute()), abs=1e-7)


def test_pgn_and_pbn_by_hand_and_undefined_cases():
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.35, 0.8, 0.9])
    labels = np.array([0, 0, 0, 0, 1, 1, 1])
    # the 5 % quantile of the anomalous scores (0.35, 0.8, 0.9) is 0.35 + 0.1·0.45 = 0.395: 3 of 4 goods below
    assert op.presorted_good(scores, labels) == 0.75
    # the 95 % quantile of the good scores is 0.3 + 0.85·0.1 = 0.385: two of the three bads above
    assert op.presorted_bad(scores, labels) == pytest.approx(2 / 3)
    with pytest.raises(MetricError, match="no normal"):
        op.presorted_good(scores[4:], labels[4:])
    with pytest.raises(MetricError, match="no anomalous"):
        op.presorted_bad(scores[:4], labels[:4])
    with pytest.raises(MetricError, match=r"\[0, 1\]"):
        op.presorted_good(scores, labels, 1.5)


def test_image_decisions_at_a_threshold_equal_scikit_learn():
    for scores, labels in _score_sets():
        for t in np.unique(np.r_[scores, scores.min() - 1, scores.max() + 1, 0.5]):
            decided = (scores >= t).astype(int)
            assert op.image_f1_at(scores, labels, t) == pytest.approx(f1_score(labels, decided, zero_division=0))
            assert op.image_precision_at(scores, labels, t) == pytest.approx(
                precision_score(labels, decided, zero_division=0))
            assert op.image_recall_at(scores, labels, t) == pytest.approx(recall_score(labels, decided))


def test_seg_f1_by_hand_pooled_over_every_pixel_of_every_image():
    maps = np.zeros((2, 3, 3), np.float32)
    masks = np.zeros((2, 3, 3), bool)
    masks[0, 0, :] = True            # three anomalous pixels in image 0
    maps[0, 0, :2] = 0.9             # two found
    maps[0, 2, 2] = 0.7              # one false positive in the anomalous image
    maps[1, 1, 1] = 0.8              # one false positive in the good image
    # threshold 0.75: TP 2, FP 1, FN 1 → F1 = 4 / (4 + 1 + 1)
    assert op.seg_f1(maps, masks, 0.75) == pytest.approx(4 / 6)
    # threshold 0.6: TP 2, FP 2, FN 1 → 4 / 7; a threshold above every score finds nothing
    assert op.seg_f1(maps, masks, 0.6) == pytest.approx(4 / 7)
    assert op.seg_f1(maps, masks, 2.0) == 0.0


@pytest.mark.parametrize("counted", [False, True], ids=["sorted", "radix-counted"])
def test_seg_f1_streamed_equals_scikit_learn_at_a_threshold_between_float32_values(counted, monkeypatch):
    from adbench.metrics import pixel

    if counted:  # the counting path that native-resolution streams of real size take
        monkeypatch.setattr(pixel, "COUNTING_MIN_PIXELS", 1000)
    rng = np.random.default_rng(5)
    maps = [rng.random((40, 50)).astype(np.float32) for _ in range(3)] + [rng.random((30, 20)).astype(np.float32)]
    masks = [rng.random(m.shape) < 0.1 for m in maps]
    ev = PixelEvaluator()
    for m, g in zip(maps, masks):
        ev.update([m], [g])
    flat_m = np.concatenate([m.ravel() for m in maps])
    flat_g = np.concatenate([g.ravel() for g in masks])
    for t in (0.5, float(flat_m[7]), float(np.nextafter(flat_m[7], np.float32(0))) + 1e-12, 0.95):
        want = f1_score(flat_g, flat_m.astype(np.float64) >= t)
        assert op.seg_f1_of(ev.split, t) == pytest.approx(want, abs=1e-12), t
    assert ev.auroc() == PixelEvaluator(np.concatenate([m.ravel() for m in maps])[None],
                                        flat_g[None]).auroc(), "counts_at leaves the curve metrics alone"


def test_the_threshold_is_mean_plus_three_population_stds_of_every_score_streamed():
    rng = np.random.default_rng(1)
    chunks = [rng.normal(2, 0.5, size) for size in (5, 300, 1, 77)]
    every = np.concatenate(chunks)
    assert op.validation_threshold(chunks) == pytest.approx(every.mean() + 3 * every.std(), rel=1e-12)
    m = op.Moments()
    for c in chunks:
        m.add(c.astype(np.float32))
    assert m.n == every.size and m.threshold() == pytest.approx(
        every.astype(np.float32).astype(np.float64).mean() + 3 * every.astype(np.float32).astype(np.float64).std())
    with pytest.raises(MetricError, match="validation"):
        op.validation_threshold([])


def test_threshold_metrics_are_registered_with_definitions_and_no_resampled_forms():
    specs = {s.name: s for s in builtin_metrics()}
    for name in ("image_f1_val", "image_precision_val", "image_recall_val", "seg_f1"):
        assert specs[name].at_threshold and "validation" in specs[name].definition
    assert specs["seg_f1"].from_evaluator is not None, "SegF1 streams at native resolution"
    assert not specs["pg5"].at_threshold and "FNR 5 %" in specs["pg5"].definition
    with pytest.raises(ValueError, match="validation threshold"):
        MetricSpec("x", "X", "image", True, op.image_f1_at, "d", at_threshold=True, bootstrap=True)


# -- validation splits -------------------------------------------------------------------
def _samples(n, folder="train/good"):
    from pathlib import Path

    from adbench.data.sample import Sample

    return [Sample(Path(f"/d/{folder}/{i:03d}.png"), 0, "good") for i in range(n)]


def test_a_declared_validation_split_is_used_as_is_and_training_is_untouched():
    from adbench.protocol.splits import unsupervised_split, with_validation

    train, test, val = _samples(10), _samples(4, "test/good"), _samples(3, "validation/good")
    split = with_validation(unsupervised_split(train, test), val, fraction=0.5, seed=0, category="c")
    assert split.validation == val and split.train == train
    assert split.manifest()["validation"] == [str(s.path) for s in val]
    assert "validation/good" in split.description["validation"]


def test_a_held_out_fraction_is_seeded_disjoint_from_training_and_checked():
    from adbench.data.sample import DatasetError
    from adbench.protocol.splits import unsupervised_split, with_validation

    train, test = _samples(20), _samples(4, "test/good")
    base = unsupervised_split(train, test)
    a = with_validation(base, [], fraction=0.25, seed=0, category="c")
    again = with_validation(base, [], fraction=0.25, seed=0, category="c")
    other = with_validation(base, [], fraction=0.25, seed=1, category="c")
    assert len(a.validation) == 5 and len(a.train) == 15 and a.validation == again.validation
    assert not {s.path for s in a.validation} & {s.path for s in a.train}
    assert other.validation != a.validation
    assert "5 of 20" in a.description["validation"]
    assert with_validation(base, [], fraction=None, seed=0, category="c").validation == []
    with pytest.raises(DatasetError, match="--validation-fraction"):
        with_validation(unsupervised_split(_samples(2), test), [], fraction=0.9, seed=0, category="c")


def test_the_synthetic_set_gains_validation_images_and_keeps_every_other_image(tmp_path):
    from adbench.data import synthetic

    settings = dict(seed=0, size=32, n_train=3, n_test_good=2, n_per_defect=1)
    plain = synthetic.ensure_generated(tmp_path / "a", categories=["wood"], **settings)
    with_val = synthetic.ensure_generated(tmp_path / "b", categories=["wood"], **settings, n_val=4)
    assert with_val.name == plain.name + "-val4"
    assert len(list((with_val / "wood" / "validation" / "good").glob("*.png"))) == 4
    files = sorted(p.relative_to(plain) for p in plain.rglob("*.png"))
    assert files and all((plain / f).read_bytes() == (with_val / f).read_bytes() for f in files)
    val = [(with_val / "wood" / "validation" / "good" / f"{i:03d}.png").read_bytes() for i in range(4)]
    assert not set(val) & {(plain / f).read_bytes() for f in files}, "validation images are new images"


# -- the whole path ----------------------------------------------------------------------
def test_run_and_report_threshold_metrics_with_and_without_validation_images(tmp_path, test_plugin_site):
    from sklearn.metrics import f1_score as sk_f1

    from adbench.data.adapters import MVTecAD
    from adbench.config import DatasetSpec
    from adbench.data.loading import load_samples
    from test_native_resolution import _dataset_with_tiny_defects

    _dataset_with_tiny_defects(tmp_path / "data", spots=[3, 2, 3, 2])
    catalogue = one_dataset(tmp_path, "mvtec_ad", tmp_path / "data", ["grid"])
    env = {"ADBENCH_LOAD_PLUGINS": "testplugins"}
    base = ["run", "sleepy", "--dataset", "mine", "--datasets", str(catalogue), "--profile", "smoke",
            "--set", "sleep=0", "--set", "image_size=32", "--eval-resolution", "input"]

    res = run_cli(base + ["--out", str(tmp_path / "none")], site=test_plugin_site, env=env)
    assert res.returncode == 0, res.stderr
    (row,) = [load_row(p) for p in (tmp_path / "none" / "cells").glob("*.json")]
    assert row["seg_f1"] is None and row["image_f1_val"] is None and row["threshold_image"] is None
    assert "--validation-fraction" in row["metric_null_reasons"]["seg_f1"]
    assert row["pg5"] is not None, "PG5 needs no validation images"
    rep = run_cli(["report", str(tmp_path / "none"), "--format", "md"], site=test_plugin_site, env=env)
    assert rep.returncode == 0, rep.stderr
    unreported = (tmp_path / "none" / "tables" / "unreported.md").read_text()
    assert "SegF1" in unreported and "--validation-fraction" in unreported and "PG5" not in unreported

    out = tmp_path / "held"
    res = run_cli(base + ["--out", str(out), "--validation-fraction", "0.5"], site=test_plugin_site, env=env)
    assert res.returncode == 0, res.stderr
    (row,) = [load_row(p) for p in (out / "cells").glob("*.json")]
    split = json.loads((out / row["split_file"]).read_text())
    assert len(split["validation"]) == 3 and row["n_train"] == 3 and row["n_validation"] == 3
    assert not set(split["validation"]) & set(split["train"])
    # the oracle: the test method's maps are the channel mean of the 32 px image, its score their std
    ad = MVTecAD(DatasetSpec("mine", "mvtec_ad", root=str(tmp_path / "data")))
    by_path = {str(s.path): s for s in ad.samples("grid", "train") + ad.samples("grid", "test")}
    val = load_samples([by_path[p] for p in split["validation"]], 32, use_cache=False).float_images().mean(dim=1)
    want_pixel = val.double().mean().item() + 3 * val.double().std(unbiased=False).item()
    assert row["threshold_pixel"] == pytest.approx(want_pixel, rel=1e-6)
    val_scores = val.flatten(1).std(dim=1).double().numpy()
    assert row["threshold_image"] == pytest.approx(val_scores.mean() + 3 * val_scores.std(), rel=1e-6)
    test = load_samples([by_path[p] for p in split["test"]], 32, use_cache=False)
    maps = test.float_images().mean(dim=1).numpy()
    want_seg = sk_f1(test.masks.numpy().ravel(), maps.ravel() >= row["threshold_pixel"], zero_division=0)
    assert row["seg_f1"] == pytest.approx(want_seg, abs=1e-9)
    scores = test.float_images().mean(dim=1).flatten(1).std(dim=1).numpy()
    labels = test.labels.numpy()
    assert row["image_recall_val"] == pytest.approx(float((scores[labels == 1] >= row["threshold_image"]).mean()))
