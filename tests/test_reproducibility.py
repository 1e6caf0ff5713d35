"""Trustworthy numbers: epoch budgets, identical reruns under load, seeds with spread, and
cost figures whose source is stated (docs/architecture.md, "Reproducibility")."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from adbench import registry
from conftest import run_cli

from adbench.results.store import load_row

BUILT_IN = ["capsnet", "capsnet2021", "convae", "fcn32s", "piade", "pyramidal_ae", "segnet", "unet", "unet2",
            "unet_ronneberger", "unetpp", "vtadl"]
#: everything a row reports that training and evaluation decide
RESULT_KEYS = ("image_auroc", "image_ap", "image_f1max", "image_f1max_threshold", "pixel_auroc", "pixel_ap",
               "pixel_f1max", "au_pro", "fit_epochs", "fit_steps", "fit_losses")


def _rows(run_dir: Path) -> dict[tuple[str, str, int], dict]:
    rows = [load_row(p) for p in sorted((run_dir / "cells").glob("*.json"))]
    return {(r["method"], r["category"], r["seed"]): r for r in rows}


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_profile_is_an_epoch_budget_without_a_clock(name):
    cls = registry.methods().get(name).obj
    for profile, cfg in cls.profiles.items():
        assert isinstance(cfg.get("epochs"), int) and cfg["epochs"] > 0, (profile, cfg)
        clock = [k for k in cfg if "second" in k or k.endswith("_s") or "time" in k]
        assert not clock, f"{name}/{profile} has wall-clock keys {clock}"


def test_same_command_same_numbers_while_the_cpu_is_busy(tmp_path: Path):
    """The same cells twice: once on a quiet machine, once beside two processes that burn
    both cores. Every metric and every loss must be identical."""
    args = ["run", "convae", "unet2", "--profile", "smoke", "--category", "fabric"]
    quiet = run_cli([*args, "--out", str(tmp_path / "quiet")])
    assert quiet.returncode == 0, quiet.stderr
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        busy = run_cli([*args, "--out", str(tmp_path / "busy")])
    finally:
        for b in burners:
            b.kill()
            b.wait()
    assert busy.returncode == 0, busy.stderr
    a, b = _rows(tmp_path / "quiet"), _rows(tmp_path / "busy")
    assert a.keys() == b.keys() and len(a) == 2
    for key in a:
        assert a[key]["torch_threads"] == b[key]["torch_threads"]
        for k in RESULT_KEYS:
            va, vb = a[key][k], b[key][k]
            if isinstance(va, list):
                assert len(va) == len(vb) and all(abs(x - y) <= 1e-9 for x, y in zip(va, vb)), (key, k)
            elif isinstance(va, float):
                assert abs(va - vb) <= 1e-9, (key, k, va, vb)
            else:
                assert va == vb, (key, k)
        assert "stopped_by_time_budget" not in b[key]["fit_notes"]
        assert a[key]["nondeterministic_ops"] == []


def test_a_cell_past_its_time_limit_is_an_error_row_not_a_shorter_training(tmp_path: Path):
    from adbench.config import load_catalogue
    from adbench.protocol.cells import Cell, RunSpec
    from adbench.protocol.runner import run_cell

    cell = Cell("convae", "synthetic", "fabric", profile="smoke", overrides=(("epochs", 3),))
    row = run_cell(cell, RunSpec(tmp_path, "cpu", load_catalogue(), cell_timeout=1e-6))
    assert row["status"] == "error" and row["cell_timeout_s"] == 1e-6
    assert "TimeLimitExceeded" in row["error"] and "after 1 of 3 epochs" in row["error"]
    assert "--set epochs=N" in row["error"] and "--cell-timeout" in row["error"]
    assert "image_auroc" not in row


def test_default_time_guards_are_generous_and_paper_has_none():
    from adbench.protocol.runner import DEFAULT_CELL_TIMEOUT_S

    assert DEFAULT_CELL_TIMEOUT_S["paper"] is None
    assert DEFAULT_CELL_TIMEOUT_S["smoke"] >= 300 and DEFAULT_CELL_TIMEOUT_S["quick"] >= 900


def test_seeds_give_one_row_each_and_tables_show_mean_and_std(tmp_path: Path):
    out = tmp_path / "run"
    res = run_cli(["run", "convae", "--seed", "0,1,2", "--profile", "smoke", "--category", "fabric,pill",
                   "--out", str(out)])
    assert res.returncode == 0, res.stderr
    rows = _rows(out)
    assert sorted(rows) == sorted((("convae", c, s) for c in ("fabric", "pill") for s in (0, 1, 2)))
    assert len({r["cell_key"] for r in rows.values()}) == 6, "each seed is its own cell"
    aurocs = [rows[("convae", "fabric", s)]["pixel_auroc"] for s in (0, 1, 2)]
    assert len(set(aurocs)) > 1, "seeds must change the training"
    assert " ± " in res.stdout and "| seeds" in res.stdout.replace("|   seeds", "| seeds")
    md = (out / "tables" / "pixel_auroc.md").read_text()
    assert " ± " in md and "Mean ± sample std (n − 1) over seeds" in md
    assert run_cli(["report", str(out), "--format", "tex"]).returncode == 0
    assert "$\\pm$" in (out / "tables" / "pixel_auroc.tex").read_text()
    import pandas as pd

    seeds = pd.read_csv(out / "tables" / "seeds.csv")
    fabric = seeds[(seeds["metric"] == "pixel_auroc") & (seeds["category"] == "synthetic/fabric")].iloc[0]
    assert fabric["n"] == 3 and fabric["mean"] == pytest.approx(sum(aurocs) / 3)
    assert fabric["std"] == pytest.approx(pd.Series(aurocs).std())
    # --seeds 3 names the same cells: nothing left to run
    again = run_cli(["run", "convae", "--seeds", "3", "--profile", "smoke", "--category", "fabric,pill",
                     "--out", str(out)])
    assert "6 already done, 0 to run" in again.stderr


def test_seed_and_seeds_together_are_refused():
    res = run_cli(["run", "convae", "--seed", "1", "--seeds", "2", "--profile", "smoke"])
    assert res.returncode == 2 and "not both" in res.stderr


def test_report_takes_cost_figures_from_a_profile_folder(tmp_path: Path):
    run = tmp_path / "run"
    assert run_cli(["run", "convae", "--profile", "smoke", "--category", "fabric", "--out", str(run)]).returncode == 0
    prof = tmp_path / "prof"  # every method at one input size and memory batch, as the report then says
    assert run_cli(["profile", "convae", "--profile", "smoke", "--input-size", "48", "--memory-batch", "4",
                    "--out", str(prof)]).returncode == 0
    res = run_cli(["report", str(run), "--costs", str(prof), "--out", str(tmp_path / "rep"), "--format", "md,html"])
    assert res.returncode == 0, res.stderr
    costs_md = (tmp_path / "rep" / "costs.md").read_text()
    assert f"Cost figures from adbench profile ({prof / 'costs.csv'})" in costs_md
    assert "all at 48 px input" in costs_md and "memory: a training step at batch 4" in costs_md
    assert re.search(r"^\| ConvAE +\| +48 \|", costs_md, re.M), costs_md  # the input column
    assert "adbench profile" in (tmp_path / "rep" / "index.html").read_text()
    plain = run_cli(["report", str(run), "--out", str(tmp_path / "rep2"), "--format", "md"])
    assert "Cost figures from the run rows" in (tmp_path / "rep2" / "costs.md").read_text()
    from adbench.report.costs import costs_from_profile
    from adbench.results.store import load_rows

    rows = load_rows([run]).assign(onnx_max_abs_err=0.123)  # a value no profile holds
    swapped = costs_from_profile(rows, prof)
    assert (swapped["latency_ms"] != rows["latency_ms"]).all()  # the profile's figure replaced the row's
    assert swapped["onnx_max_abs_err"].tolist() == rows["onnx_max_abs_err"].tolist(), \
        "the parity check of each cell's own fitted model stays"
    bad = run_cli(["report", str(run), "--costs", str(tmp_path / "nowhere"), "--out", str(tmp_path / "rep3")])
    assert bad.returncode == 1 and "adbench profile all --out" in bad.stderr and "Traceback" not in bad.stderr


def test_a_method_that_cannot_run_at_the_asked_input_size_gets_an_error_row(tmp_path: Path):
    """``profile --input-size``: a method whose network cannot take that size is reported (n/a
    with its reason in costs.csv), and the others are still measured."""
    res = run_cli(["profile", "capsnet", "convae", "--profile", "smoke", "--input-size", "8", "--out", str(tmp_path)])
    assert res.returncode == 0, res.stderr
    assert "capsnet cannot be profiled at 8 px" in res.stderr and "Traceback" not in res.stderr
    import pandas as pd

    costs = pd.read_csv(tmp_path / "costs.csv").set_index("method")
    assert costs.at["capsnet", "status"] == "error" and "cannot be profiled at 8 px" in costs.at["capsnet", "errors"]
    assert pd.isna(costs.at["capsnet", "latency_ms"]) and costs.at["capsnet", "input_size"] == 8


def test_worker_pool_profiles_costs_before_any_cell_trains(tmp_path: Path, monkeypatch):
    """With workers, every cost profile is measured in the parent, one at a time; the
    workers then only read the cache (their cost_threads name the parent's threads)."""
    from adbench.costs.measure import measure_method
    from adbench.protocol.cells import Cell
    from adbench.protocol.costs import measure_cells

    monkeypatch.setenv("ADBENCH_CACHE", str(tmp_path))
    cells = [Cell("convae", "synthetic", c, profile="smoke") for c in ("fabric", "pill")]
    assert measure_cells(cells, "cpu", threads=1) == 1  # two cells, one configuration
    from adbench.protocol.costs import LATENCY_MIN_TIME_S

    cls = registry.methods().get("convae").obj
    hit = measure_method(cls, cls.config_for("smoke"), threads=1, min_time=LATENCY_MIN_TIME_S["smoke"])
    assert hit["cached"] and hit["summary"]["torch_threads"] == 1
    assert hit["summary"]["profiled_weights"] == "random init (seed 0)"
