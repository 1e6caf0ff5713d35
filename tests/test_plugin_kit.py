"""The third-party plugin kit: the example package and `adbench new-plugin`, each built and
installed into a temporary site folder (discovered through its real entry point), exercised
through the CLI and its own tests, then removed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, run_cli
from adbench.results.store import load_row


def _install(package: Path, site: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                          "--target", str(site), str(package)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def _pytest(tests: Path, site: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
                          capture_output=True, text=True, env=env, cwd=tests.parent)


def test_example_plugin_package_end_to_end(tmp_path: Path):
    site = tmp_path / "site"
    example = REPO / "examples" / "adbench-plugin-example"
    _install(example, site)
    res = run_cli(["list", "methods"], site=site)
    line = next(l for l in res.stdout.splitlines() if l.startswith("padim_rp"))
    assert "adbench-plugin-example 0.1.0" in line or "adbench_plugin_example 0.1.0" in line
    out = tmp_path / "run"
    res = run_cli(["run", "padim_rp", "--profile", "smoke", "--category", "pill", "--out", str(out)], site=site)
    assert res.returncode == 0, res.stderr
    (row,) = [load_row(p) for p in (out / "cells").glob("*.json")]
    assert row["status"] == "ok" and row["plugin_distribution"] in ("adbench-plugin-example", "adbench_plugin_example")
    assert row["image_auroc"] > 0.5
    res = _pytest(example / "tests", site)
    assert res.returncode == 0, res.stdout[-3000:]
    shutil.rmtree(site)  # uninstall
    assert "padim_rp" not in run_cli(["list", "methods"]).stdout


def test_new_plugin_skeleton_passes_its_tests(tmp_path: Path):
    res = run_cli(["new-plugin", "my_detector", "--dir", str(tmp_path)])
    assert res.returncode == 0, res.stderr
    pkg = tmp_path / "adbench-my-detector"
    assert (pkg / "adbench_my_detector" / "method.py").is_file()
    site = tmp_path / "site"
    _install(pkg, site)
    assert "my_detector" in run_cli(["list", "methods"], site=site).stdout
    res = _pytest(pkg / "tests", site)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "10 passed" in res.stdout  # the contract tests, the typed-keys and the citation ones included
    again = run_cli(["new-plugin", "my_detector", "--dir", str(tmp_path)])
    assert again.returncode != 0 and "already exists" in again.stderr
    bad = run_cli(["new-plugin", "My-Detector", "--dir", str(tmp_path)])
    assert bad.returncode != 0 and "must be lower-case" in bad.stderr
