"""Supervised split: stratified, deterministic for a seed, disjoint from evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from adbench.data.sample import DatasetError, Sample
from adbench.protocol.splits import supervised_split, unsupervised_split


def _samples():
    train = [Sample(Path(f"train/{i}.png"), 0, "good") for i in range(10)]
    test = [Sample(Path(f"test/good/{i}.png"), 0, "good") for i in range(8)]
    for d, n in (("crack", 8), ("hole", 12)):
        test += [Sample(Path(f"test/{d}/{i}.png"), 1, d, Path(f"gt/{d}/{i}_mask.png")) for i in range(n)]
    return train, test


def test_k_per_defect_type_and_disjoint():
    train, test = _samples()
    sp = supervised_split(train, test, seed=1, category="c", k=3)
    moved = [s for s in sp.train if s.label == 1]
    assert {d: sum(s.defect_type == d for s in moved) for d in ("crack", "hole")} == {"crack": 3, "hole": 3}
    assert not {s.path for s in sp.train} & {s.path for s in sp.test}
    assert len(sp.test) == len(test) - 6
    assert sp.manifest()["moved"] == {"crack": 3, "hole": 3}


def test_deterministic_for_seed_and_different_across_seeds():
    train, test = _samples()
    a = supervised_split(train, test, seed=1, category="c", k=3).manifest()
    b = supervised_split(train, list(reversed(test)), seed=1, category="c", k=3).manifest()
    assert sorted(a["train"]) == sorted(b["train"])
    c = supervised_split(train, test, seed=2, category="c", k=3).manifest()
    assert sorted(a["train"]) != sorted(c["train"])


def test_ratio_is_stratified():
    train, test = _samples()
    sp = supervised_split(train, test, seed=0, category="c", ratio=0.25)
    assert sp.manifest()["moved"] == {"crack": 2, "hole": 3}


def test_too_few_anomalies_is_an_error_with_counts():
    train, test = _samples()
    with pytest.raises(DatasetError, match="'crack': 8 anomalous images, cannot move 8"):
        supervised_split(train, test, seed=0, category="c", k=8)


def test_unsupervised_keeps_the_test_split():
    train, test = _samples()
    sp = unsupervised_split(train, test)
    assert sp.test == test and all(s.label == 0 for s in sp.train)
