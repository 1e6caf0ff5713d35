"""AU-PRO at any FPR limit: the metric family, its columns, and a run and report that use it,
asked for per run (``--au-pro-limit``) and per data set (``au_pro_limits``)."""

from __future__ import annotations

import numpy as np
import pytest

from adbench import registry
from adbench.metrics import PixelEvaluator
from adbench.metrics.spec import au_pro_name, au_pro_spec, check_au_pro_limit, metrics_of_rows
from adbench.results.store import load_row
from conftest import run_cli
from test_metrics import plain_au_pro


def test_column_names_keep_the_established_ones_and_are_unique():
    assert au_pro_name(0.3) == "au_pro" and au_pro_name(0.05) == "au_pro_005"
    assert [au_pro_name(v) for v in (0.01, 0.1, 1.0, 0.005, 0.25)] == [
        "au_pro_001", "au_pro_01", "au_pro_1", "au_pro_0005", "au_pro_025"]
    names = {au_pro_name(k / 1000) for k in range(1, 1001)}
    assert len(names) == 1000, "every limit with 3 decimals has its own column"
    for bad in (0, 1.5, 0.0005, 0.12345, "x", None):
        with pytest.raises(ValueError, match="AU-PRO limit"):
            check_au_pro_limit(bad)


@pytest.mark.parametrize("limit", [0.01, 0.1, 1.0])
def test_a_limit_spec_scores_the_exact_curve_to_that_limit(limit):
    rng = np.random.default_rng(2)
    masks = np.zeros((4, 24, 24), bool)
    masks[1, 3:9, 4:8] = masks[2, 15:17, 2:20] = masks[3, 0:2, 0:2] = True
    maps = np.round(rng.random((4, 24, 24)) + 0.6 * masks * rng.random((4, 24, 24)), 2)
    spec = au_pro_spec(limit)
    want = plain_au_pro(maps, masks, limit)
    assert spec.fn(maps, masks) == pytest.approx(want, abs=1e-9)
    ev = PixelEvaluator()
    for m, g in zip(maps.astype(np.float32), masks):
        ev.update([m], [g])
    assert spec.from_evaluator(ev) == pytest.approx(plain_au_pro(maps.astype(np.float32), masks, limit), abs=1e-6)
    assert spec.title == f"AU-PRO@{limit:g}" and f"FPR {limit:g}" in spec.definition


def test_extra_metrics_join_the_registry_only_inside_their_block():
    before = [s.name for s in registry.metrics()]
    with registry.extra_metrics([au_pro_spec(0.1)]):
        with registry.extra_metrics([au_pro_spec(0.1), au_pro_spec(0.3)]):  # nested, repeated, registered
            inside = [s.name for s in registry.metrics()]
    assert inside == before + ["au_pro_01"] and [s.name for s in registry.metrics()] == before
    assert [s.name for s in metrics_of_rows([{"au_pro_limits": [0.1, 0.01]}, {"au_pro_limits": [0.1]}, {}])] == [
        "au_pro_001", "au_pro_01"]


def test_run_and_report_au_pro_at_limits_of_the_run_and_of_the_data_set(tmp_path):
    catalogue = tmp_path / "datasets.toml"
    catalogue.write_text('[synth]\nadapter = "synthetic"\ncategories = ["fabric"]\nimage_size = 64\n'
                         'au_pro_limits = [0.01]\n')
    out = tmp_path / "run"
    res = run_cli(["run", "convae", "--dataset", "synth", "--datasets", str(catalogue), "--profile", "smoke",
                   "--au-pro-limit", "0.1,0.05", "--out", str(out)])
    assert res.returncode == 0, res.stderr
    (row,) = [load_row(p) for p in (out / "cells").glob("*.json")]
    assert row["au_pro_limits"] == [0.01, 0.1], "0.05 is registered already; the data set adds 0.01"
    assert 0 <= row["au_pro_001"] <= row["au_pro_01"] <= 1 and row["au_pro_005"] is not None
    assert "AU-PRO@0.1" in (out / "tables" / "au_pro_01.md").read_text()
    rep = run_cli(["report", str(out), "--format", "csv,md", "--out", str(tmp_path / "rep")])
    assert rep.returncode == 0, rep.stderr
    assert "AU-PRO@0.01" in (tmp_path / "rep" / "au_pro_001.md").read_text()
    assert "au_pro_01" in (tmp_path / "rep" / "summary.csv").read_text()
    again = run_cli(["run", "convae", "--dataset", "synth", "--datasets", str(catalogue), "--profile", "smoke",
                     "--au-pro-limit", "0.1", "--out", str(out)])
    assert "1 already done, 0 to run" in again.stderr, "the same limits are the same cell"


def test_a_bad_limit_is_named_before_any_cell(tmp_path):
    res = run_cli(["run", "convae", "--profile", "smoke", "--au-pro-limit", "0.5,2", "--out", str(tmp_path / "r")])
    assert res.returncode == 2 and "--au-pro-limit" in res.stderr and "[0.001, 1]" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "r" / "cells").exists()
    catalogue = tmp_path / "datasets.toml"
    catalogue.write_text('[synth]\nadapter = "synthetic"\nau_pro_limits = [0.3, 7]\n')
    res = run_cli(["run", "convae", "--dataset", "synth", "--datasets", str(catalogue), "--out", str(tmp_path / "r")])
    assert res.returncode != 0 and "au_pro_limits" in res.stderr and str(catalogue) in res.stderr
    assert "Traceback" not in res.stderr
