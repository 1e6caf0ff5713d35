"""The supervised track end to end: an imbalance sweep writes one row and one split per
ratio, and every supervised method of a run sees the same split."""

from __future__ import annotations

import json

from adbench.results.store import load_row
from conftest import run_cli


def test_imbalance_sweep_gives_one_row_per_ratio(tmp_path):
    out = tmp_path / "sweep"
    res = run_cli(["run", "capsnet", "--track", "supervised", "--anomaly-ratio", "0.1,0.3", "--profile", "smoke",
                   "--category", "pill", "--out", str(out)])
    assert res.returncode == 0, res.stderr
    rows = sorted((load_row(p) for p in (out / "cells").glob("*.json")),
                  key=lambda r: r["anomaly_ratio"])
    assert [r["anomaly_ratio"] for r in rows] == [0.1, 0.3]
    assert all(r["status"] == "ok" and r["pixel_auroc"] is None for r in rows)  # image-level method: no maps
    # the split is written next to the rows; a larger ratio moves more anomalies into training
    splits = [json.loads((out / r["split_file"]).read_text()) for r in rows]
    assert all(s["track"] == "supervised" for s in splits)
    assert sum(splits[0]["moved"].values()) < sum(splits[1]["moved"].values())
    assert [r["n_train_anomalous"] for r in rows] == [sum(s["moved"].values()) for s in splits]


def test_same_split_for_every_supervised_method(tmp_path):
    out = tmp_path / "same"
    res = run_cli(["run", "capsnet", "capsnet2021", "--profile", "smoke", "--category", "wood",
                   "--out", str(out)])
    assert res.returncode == 0, res.stderr
    rows = [load_row(p) for p in (out / "cells").glob("*.json")]
    splits = [json.loads((out / r["split_file"]).read_text()) for r in rows]
    assert len(rows) == 2 and splits[0]["train"] == splits[1]["train"] and splits[0]["test"] == splits[1]["test"]
