"""The few-shot (``--train-shots``) and noisy-training (``--train-contamination``) settings: seeded
draws the same for every method, kept apart from the full setting in every table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adbench.data.sample import DatasetError, Sample
from adbench.protocol.splits import unsupervised_split, with_contamination, with_train_shots
from adbench.report.rows import setting_slug, settings
from adbench.results.store import load_row
from conftest import run_cli


def _split(n_train=20, n_good=6, n_bad=12):
    train = [Sample(Path(f"/d/train/good/{i:03d}.png"), 0, "good") for i in range(n_train)]
    test = ([Sample(Path(f"/d/test/good/{i:03d}.png"), 0, "good") for i in range(n_good)]
            + [Sample(Path(f"/d/test/crack/{i:03d}.png"), 1, "crack", Path(f"/d/gt/{i:03d}_mask.png"))
               for i in range(n_bad)])
    return unsupervised_split(train, test)


def test_few_shot_draws_k_normals_by_seed_alone():
    a = with_train_shots(_split(), 4, seed=0, category="c")
    assert len(a.train) == 4 and a.train == with_train_shots(_split(), 4, seed=0, category="c").train
    assert a.train != with_train_shots(_split(), 4, seed=1, category="c").train
    assert a.description["train_shots"] == 4 and len(a.test) == 18
    with pytest.raises(DatasetError, match="--train-shots 21"):
        with_train_shots(_split(), 21, seed=0, category="c")


def test_contamination_moves_unlabelled_anomalies_from_test_to_train():
    s = with_contamination(_split(), 0.2, seed=0, category="c")
    moved = s.description["contaminated"]
    assert len(moved) == 5, "5 of 25 training images anomalous: 0.2"
    assert len(s.train) == 25 and len(s.test) == 18 - 5
    hidden = [t for t in s.train if str(t.path) in moved]
    assert all(t.label == 0 and t.mask_path is None and t.defect_type == "good" for t in hidden)
    assert not {t.path for t in s.test} & {t.path for t in hidden}
    with pytest.raises(DatasetError, match="--train-contamination"):
        with_contamination(_split(n_bad=3), 0.5, seed=0, category="c")


def test_settings_name_and_slug_the_new_settings():
    import pandas as pd

    df = pd.DataFrame({"track": ["unsupervised", "unsupervised", "supervised", "unsupervised"],
                       "k_anomalies": [None, None, 5, None], "train_shots": [None, 8, None, None],
                       "contamination": [None, None, None, 0.1]})
    assert list(settings(df)) == ["unsupervised", "unsupervised, 8-shot", "supervised, k=5",
                                  "unsupervised, contamination 0.1"]
    assert [setting_slug(s) for s in settings(df)] == ["unsupervised", "unsupervised-8shot", "supervised-k5",
                                                       "unsupervised-contamination0.1"]


def test_runs_of_two_settings_record_them_and_get_separate_tables(tmp_path):
    """The synthetic wood category: 60 normal training images, 30 normal and 50 anomalous test images."""
    out = tmp_path / "run"
    base = ["run", "convae", "--profile", "smoke", "--category", "wood", "--out", str(out)]
    for extra in (["--train-shots", "8"], ["--train-contamination", "0.1"]):
        res = run_cli(base + extra)
        assert res.returncode == 0, res.stderr
    rows = {(r.get("train_shots"), r.get("contamination")): r
            for r in (load_row(p) for p in (out / "cells").glob("*.json"))}
    assert set(rows) == {(8, None), (None, 0.1)}
    few = rows[(8, None)]
    assert few["n_train"] == 8 and few["n_test"] == 80
    few_split = json.loads((out / few["split_file"]).read_text())
    assert len(few_split["train"]) == 8 and all("/train/good/" in p for p in few_split["train"])
    noisy = rows[(None, 0.1)]
    assert noisy["n_train_contaminated"] == 7 and noisy["n_train"] == 67 and noisy["n_train_anomalous"] == 0
    assert noisy["n_test"] == 80 - 7
    split = json.loads((out / noisy["split_file"]).read_text())
    assert len(split["contaminated"]) == 7 and set(split["contaminated"]) <= set(split["train"])
    assert not set(split["train"]) & set(split["test"]), "no test image is also in training"
    rep = run_cli(["report", str(out), "--format", "csv,md", "--out", str(tmp_path / "rep")])
    assert rep.returncode == 0, rep.stderr
    tables = {p.name for p in (tmp_path / "rep").iterdir()}
    assert {"main-unsupervised-8shot.md", "main-unsupervised-contamination0.1.md"} <= tables
