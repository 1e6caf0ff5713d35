"""Per-image values, paired tests and box plots: AUPIMO per image in the row (a real run), the
Wilcoxon/Holm/effect-size table against scipy and statsmodels, and the per-image figure."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import wilcoxon

from adbench.report.paired_views import holm, paired_table, per_image_frame, rank_biserial
from conftest import run_cli


def test_a_run_stores_aupimo_per_image_and_its_mean_is_the_metric(tmp_path):
    res = run_cli(["run", "convae", "--profile", "quick", "--set", "epochs=1", "--category", "fabric",
                   "--out", str(tmp_path)])
    assert res.returncode == 0, res.stderr[-2000:]
    (row_file,) = (tmp_path / "cells").glob("*.json")
    row = json.loads(row_file.read_text())
    values = row["extra"]["per_image"]["aupimo"]
    assert len(values) == row["extra"]["n_test"]
    scored = [v for v in values.values() if v is not None]
    # normal images have none, nor an anomalous one whose defect vanished when its mask was resized to 64 px
    assert 0.9 * row["extra"]["n_test_anomalous"] <= len(scored) <= row["extra"]["n_test_anomalous"]
    assert row["metrics"]["aupimo"] == pytest.approx(np.mean(scored), abs=1e-12)
    assert row["extra"]["metric_resolutions"]["aupimo"] == "input"


def test_holm_and_rank_biserial_by_hand_and_against_statsmodels():
    assert rank_biserial(np.array([1.0, 2.0, 3.0])) == 1.0
    assert rank_biserial(np.array([-1.0, 2.0, 0.0])) == pytest.approx(1 / 3)  # ranks 1, 2; zeros dropped
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], atol=1e-12)


def _rows(tmp_path, seed=0):
    from adbench.results.store import ResultStore, load_rows

    rng = np.random.default_rng(seed)
    store = ResultStore(tmp_path / "run")
    paths = [f"/d/pill/test/crack/{i:03d}.png" for i in range(40)] + [f"/d/pill/test/good/{i:03d}.png" for i in range(5)]
    base = rng.random(40)
    for method, shift in (("m1", 0.0), ("m2", 0.25), ("m3", 0.01)):
        vals = np.clip(base + shift + 0.05 * rng.standard_normal(40), 0, 1)
        per_image = {p: float(v) for p, v in zip(paths, vals)} | {p: None for p in paths[40:]}
        store.write({"cell_key": method, "method": method, "dataset": "synthetic", "category": "pill",
                     "status": "ok", "seed": 0, "aupimo": float(vals.mean()), "per_image": {"aupimo": per_image}})
    return load_rows([tmp_path / "run"])


def test_paired_table_agrees_with_scipy_and_names_the_better_method(tmp_path):
    rows = _rows(tmp_path)
    values = per_image_frame(rows, "aupimo")
    assert len(values) == 3 * 40  # normal images carry no value
    table = paired_table(values).set_index(["method_a", "method_b"])
    wide = values.pivot_table(index="path", columns="label", values="value")
    for (a, b), line in table.iterrows():
        expect = wilcoxon(wide[a], wide[b])
        assert line["p"] == pytest.approx(expect.pvalue) and line["statistic"] == pytest.approx(expect.statistic)
        assert line["images"] == 40
    np.testing.assert_allclose(table["p_holm"], holm(table["p"].to_numpy()))
    assert table.loc[("m1", "m2"), "better"] == "m2" and table.loc[("m1", "m2"), "effect_size"] < -0.9


def test_report_writes_the_paired_table_and_a_box_plot_per_category(tmp_path):
    from adbench.report.build import write_report

    written = {p.name for p in write_report(_rows(tmp_path), tmp_path / "rep", ("csv", "md", "fig"))}
    assert {"paired_aupimo.csv", "paired_aupimo.md", "per_image_aupimo_synthetic_pill.png"} <= written
    md = (tmp_path / "rep" / "paired_aupimo.md").read_text()
    assert "Wilcoxon signed-rank" in md and "Holm-corrected over 3 pairs" in md


def test_list_metrics_shows_the_new_metrics_with_their_definitions():
    res = run_cli(["list", "metrics"])
    assert res.returncode == 0, res.stderr
    lines = {line.split()[0]: line for line in res.stdout.splitlines() if line.strip()}
    assert "AU-PRO@0.05: area under the per-region-overlap curve" in lines["au_pro_005"]
    assert "AUPIMO: mean over anomalous images" in lines["aupimo"] and "[per_image]" in lines["aupimo"]
