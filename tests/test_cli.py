"""End-to-end CLI runs on the synthetic data set at the smoke profile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_interrupted, REPO, run_cli
from adbench.results.store import load_row


def _rows(run_dir: Path) -> list[dict]:
    return [load_row(p) for p in sorted((run_dir / "cells").glob("*.json"))]


def test_help_is_useful():
    res = run_cli(["run", "--help"])
    assert res.returncode == 0
    for flag in ("--dataset", "--category", "--track", "--profile", "--seed", "--out", "--force"):
        assert flag in res.stdout


def test_run_all_smoke_writes_rows_and_tables(tmp_path: Path):
    out = tmp_path / "run"
    res = run_cli(["run", "convae", "--profile", "smoke", "--out", str(out), "--category", "fabric,pill"])
    assert res.returncode == 0, res.stderr
    rows = _rows(out)
    assert len(rows) == 2 and all(r["status"] == "ok" for r in rows)
    for r in rows:
        for key in ("image_auroc", "pixel_auroc", "au_pro", "method", "dataset", "category", "track",
                    "seed", "profile", "status", "error", "git_sha", "torch_version", "params_inference",
                    "params_total", "gmacs", "latency_ms", "latency_iqr_ms", "latency_reps", "forward_mb",
                    "backward_mb", "memory_method", "onnx_size_mb", "onnx_ok", "torch_threads", "cpu_model",
                    "torch_build", "profiled_weights", "costs_torch_threads", "costs_cpu_model"):
            assert key in r, key
        assert r["onnx_checked_on"] == "this cell's fitted model" and r["onnx_max_abs_err"] < 1e-3
        assert r["cpu_model"] not in ("", "x86_64", "aarch64") and r["fit_epochs"] == 2
        assert r["forward_mb"] > 0 and r["backward_mb"] > 0 and r["memory_batch"] == 16
        assert 0 <= r["image_auroc"] <= 1 and r["plugin_distribution"] == "adbench"
    table = (out / "tables" / "image_auroc.csv").read_text()
    assert "synthetic/fabric" in table and "synthetic/mean" in table
    assert str(out / "tables") in res.stdout
    # rerun: everything is skipped
    res = run_cli(["run", "convae", "--profile", "smoke", "--out", str(out), "--category", "fabric,pill"])
    assert "2 already done, 0 to run" in res.stderr
    before = {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}
    res = run_cli(["run", "convae", "--profile", "smoke", "--out", str(out), "--category", "fabric", "--force"])
    after = {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}
    assert sum(before[k] != after[k] for k in before) == 1


def test_crashing_method_writes_error_row_and_run_goes_on(tmp_path: Path, test_plugin_site: Path):
    out = tmp_path / "run"
    res = run_cli(["run", "crashy", "nanscores", "sleepy", "--profile", "smoke", "--out", str(out),
                   "--category", "wood", "--set", "image_size=32"], site=test_plugin_site,
                  env={"ADBENCH_LOAD_PLUGINS": "testplugins"})
    assert res.returncode == 1
    rows = {r["method"]: r for r in _rows(out)}
    assert rows["crashy"]["status"] == "error" and "deliberate failure" in rows["crashy"]["error"]
    assert "Traceback" in rows["crashy"]["traceback"]
    assert rows["nanscores"]["status"] == "error"
    assert "nanscores" in rows["nanscores"]["error"] and "wood/test" in rows["nanscores"]["error"]
    assert rows["sleepy"]["status"] == "ok"
    assert "FAILED crashy" in res.stderr
    assert (out / "tables" / "failures.md").exists()


def test_interrupted_run_resumes_without_losing_rows(tmp_path: Path, test_plugin_site: Path):
    """Ctrl-C (to the process group, as a terminal sends it) arrives right after the second
    row is written (the test plugin's ``adbench_cell_finished`` sends it): exactly two rows
    stay, none is partial, and the next run does only the other two."""
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(test_plugin_site), ADBENCH_LOAD_PLUGINS="testplugins")
    args = [sys.executable, "-m", "adbench", "run", "sleepy", "--profile", "smoke", "--set", "sleep=0",
            "--out", str(out)]
    code, err = run_interrupted(out, test_plugin_site, ["--set", "sleep=0"])
    assert code == 130, err
    done = _rows(out)
    assert len(done) == 2 and all(r["status"] == "ok" for r in done)
    assert not list((out / "cells").glob("*.tmp")), "no partial row may remain"
    res = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"{len(done)} already done, {4 - len(done)} to run" in res.stderr
    after = _rows(out)
    assert len(after) == 4
    assert {r["cell_key"]: r["started_at"] for r in done}.items() <= {r["cell_key"]: r["started_at"] for r in after}.items()


@pytest.mark.parametrize("workers", ["2"])  # the worker pool: the parent and every worker get the signal
def test_sigterm_stops_a_run_like_ctrl_c_and_says_so(tmp_path: Path, test_plugin_site: Path, workers: str):
    """What Slurm and `timeout` send (#41): the run stops at once with the rows it has, says it
    was interrupted and how to resume, and exits 143 as a shell reports SIGTERM."""
    out = tmp_path / "run"
    code, err = run_interrupted(out, test_plugin_site, ["--set", "sleep=0", "--workers", workers],
                                signal_name="SIGTERM")
    assert code == 143, err
    assert "interrupted by SIGTERM: 2/4 cells have rows" in err and "run the same command again" in err
    assert "Traceback" not in err
    assert len(_rows(out)) == 2 and not list((out / "cells").glob("*.tmp"))


def test_report_command_rebuilds_tables(tmp_path: Path):
    out = tmp_path / "run"
    assert run_cli(["run", "convae", "--profile", "smoke", "--out", str(out), "--category", "metal"]).returncode == 0
    res = run_cli(["report", str(out), "--out", str(tmp_path / "rep"), "--format", "md,tex"])
    assert res.returncode == 0, res.stderr
    md = (tmp_path / "rep" / "image_auroc.md").read_text()
    assert "ConvAE" in md and "synthetic/metal" in md
    assert (tmp_path / "rep" / "image_auroc.tex").read_text().count("\\toprule") == 1


def test_report_without_rows_is_a_clear_error(tmp_path: Path):
    res = run_cli(["report", str(tmp_path / "nothing")])
    assert res.returncode != 0 and "no result rows" in res.stderr


def test_unknown_method_lists_the_known_ones():
    res = run_cli(["run", "nosuch", "--profile", "smoke"])
    assert res.returncode != 0 and "unknown method 'nosuch'" in res.stderr and "convae" in res.stderr


def test_unconfigured_dataset_has_a_how_to_message(tmp_path: Path):
    res = run_cli(["run", "convae", "--dataset", "mvtec_ad", "--profile", "smoke"], env={"MVTEC_AD_ROOT": ""})
    assert res.returncode != 0 and "MVTEC_AD_ROOT" in res.stderr
    res = run_cli(["run", "convae", "--dataset", "all", "--profile", "smoke", "--category", "fabric",
                   "--out", str(tmp_path / "r")], env={"MVTEC_AD_ROOT": ""})
    assert "skipping" in res.stderr and "MVTEC_AD_ROOT" in res.stderr


def test_data_check_synthetic():
    res = run_cli(["data", "check", "synthetic"])
    assert res.returncode == 0, res.stderr
    assert "fabric: train 60, test 80 (contamination 10, crack 10, good 30, hole 10, scratch 10, stain 10)" in res.stdout


def test_set_applies_where_the_key_exists_and_rejects_typos(tmp_path: Path, test_plugin_site: Path):
    env = {"ADBENCH_LOAD_PLUGINS": "testplugins"}
    res = run_cli(["run", "sleepy", "crashy", "--profile", "smoke", "--category", "pill", "--set", "sleeep=1",
                   "--out", str(tmp_path)], site=test_plugin_site, env=env)
    assert res.returncode == 2 and "--set" in res.stderr and "sleeep" in res.stderr
    run_cli(["run", "sleepy", "crashy", "--profile", "smoke", "--category", "pill", "--set", "sleep=0",
             "--out", str(tmp_path)], site=test_plugin_site, env=env)
    rows = {r["method"]: r for r in _rows(tmp_path)}
    assert rows["sleepy"]["overrides"] == {"sleep": "0"} and rows["sleepy"]["config"]["sleep"] == 0.0
    assert rows["crashy"]["overrides"] == {} and "deliberate failure" in rows["crashy"]["error"]
