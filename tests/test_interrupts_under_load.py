"""The interruption tests' scenario 20 times in a row beside two processes burning both cores
(``pytest -m slow``): the Ctrl-C arrives at a fixed point (right after the second written row,
sent by the test plugin), so the outcome must never depend on the machine's load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_interrupted

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def busy_machine():
    """Two CPU-bound processes for the module's duration (killed at its end)."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for b in burners:
        b.kill()
        b.wait()


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("attempt", range(20))
def test_interruption_point_is_exact_under_load(tmp_path: Path, test_plugin_site: Path, busy_machine, attempt,
                                                workers):
    out = tmp_path / "run"
    code, err = run_interrupted(out, test_plugin_site, ["--set", "sleep=1", "--workers", workers])
    assert code == 130, err[-2000:]
    rows = [json.loads(p.read_text()) for p in (out / "cells").glob("*.json")]
    assert len(rows) == 2 and all(r["status"] == "ok" for r in rows)
    assert not list((out / "cells").glob("*.tmp")), "no partial row may remain"
