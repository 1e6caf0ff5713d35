"""Execution at scale: worker processes, faults, timeouts, concurrent runs, shards, submitit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path


from adbench.results.store import write_json_atomic
from conftest import REPO, run_cli
from adbench.results.store import load_row

ENV = {"ADBENCH_LOAD_PLUGINS": "testplugins,adbench_convae,convae"}


def _rows(out: Path) -> dict[str, dict]:
    return {p.stem: load_row(p) for p in (out / "cells").glob("*.json")}


def test_workers_fault_isolation(tmp_path: Path, test_plugin_site: Path):
    """An exception, NaN scores and a SIGKILLed worker each give an error row; others are kept."""
    out = tmp_path / "run"
    res = run_cli(["run", "crashy", "nanscores", "killme", "sleepy", "--profile", "smoke", "--category",
                   "wood,pill", "--workers", "2", "--set", "sleep=0", "--out", str(out)],
                  site=test_plugin_site, env=ENV)
    assert res.returncode == 1
    rows = list(_rows(out).values())
    assert len(rows) == 8
    by = {(r["method"], r["category"]): r for r in rows}
    assert all(by[("sleepy", c)]["status"] == "ok" for c in ("wood", "pill"))
    assert "deliberate failure" in by[("crashy", "wood")]["error"]
    assert "non-finite score" in by[("nanscores", "pill")]["error"]
    assert "worker process died (exit code -9)" in by[("killme", "wood")]["error"]
    # a resumed run retries the failed cells only
    res = run_cli(["run", "sleepy", "killme", "--profile", "smoke", "--category", "wood,pill", "--set",
                   "sleep=0", "--out", str(out), "--workers", "2"], site=test_plugin_site, env=ENV)
    assert "4 cells, 2 already done, 2 to run" in res.stderr


def test_cell_timeout_fails_a_hung_cell_and_moves_on(tmp_path: Path, test_plugin_site: Path):
    out = tmp_path / "run"
    res = run_cli(["run", "sleepy", "--profile", "smoke", "--category", "wood", "--set", "sleep=120",
                   "--cell-timeout", "8", "--out", str(out)], site=test_plugin_site, env=ENV, timeout=120)
    (row,) = _rows(out).values()
    assert row["status"] == "error" and "--cell-timeout 8" in row["error"]
    assert res.returncode == 1


def test_concurrent_runs_never_write_a_cell_twice(tmp_path: Path, test_plugin_site: Path):
    out, log = tmp_path / "run", tmp_path / "finished.log"
    env = {**os.environ, **ENV, "PYTHONPATH": str(test_plugin_site), "ADBENCH_TEST_FINISHED_LOG": str(log)}
    cmd = [sys.executable, "-m", "adbench", "run", "sleepy", "--profile", "smoke", "--set", "sleep=1",
           "--out", str(out)]
    procs = [subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(2)]
    for p in procs:
        p.wait(timeout=300)
    keys = [line.split()[0] for line in log.read_text().splitlines()]
    assert len(keys) == 4 and len(set(keys)) == 4, keys
    assert all(r["status"] == "ok" for r in _rows(out).values())


def test_atomic_rows_are_never_seen_half_written(tmp_path: Path):
    path = tmp_path / "cells" / "k.json"
    big = {"cell_key": "k", "payload": list(range(200_000))}
    write_json_atomic(path, big)
    stop = threading.Event()
    errors: list[Exception] = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            write_json_atomic(path, {**big, "i": i})
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(200):
            try:
                assert len(json.loads(path.read_text())["payload"]) == 200_000
            except Exception as exc:  # noqa: BLE001 - any failure to parse is the bug
                errors.append(exc)
    finally:
        stop.set()
        t.join()
    assert not errors
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_shards_partition_the_cells_and_merge_in_report(tmp_path: Path, test_plugin_site: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    for shard, out in (("1/2", a), ("2/2", b)):
        res = run_cli(["run", "sleepy", "--profile", "smoke", "--set", "sleep=0", "--shard", shard,
                       "--out", str(out)], site=test_plugin_site, env=ENV)
        assert res.returncode == 0, res.stderr
    ka, kb = set(_rows(a)), set(_rows(b))
    assert len(ka) == 2 and len(kb) == 2 and not ka & kb
    res = run_cli(["report", str(a), str(b), "--out", str(tmp_path / "merged"), "--format", "csv"], site=test_plugin_site, env=ENV)
    assert res.returncode == 0, res.stderr
    table = (tmp_path / "merged" / "image_auroc.csv").read_text()
    assert all(f"synthetic/{c}" in table for c in ("fabric", "wood", "pill", "metal"))


def test_submitit_local_executor_collects_rows(tmp_path: Path, test_plugin_site: Path):
    cfg = tmp_path / "slurm.toml"
    cfg.write_text('[executor.submitit]\ncluster = "local"\ntime = 10\ncpus = 1\nmem = 2\n')
    out = tmp_path / "run"
    res = run_cli(["run", "sleepy", "--profile", "smoke", "--category", "fabric,metal", "--set", "sleep=0",
                   "--executor", "submitit", "--executor-config", str(cfg), "--out", str(out)],
                  site=test_plugin_site, env=ENV, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "submitted 2 jobs (local)" in res.stderr
    rows = _rows(out)
    assert len(rows) == 2 and all(r["status"] == "ok" for r in rows.values())
    assert (out / "submitit").is_dir()


def test_every_torch_load_is_weights_only():
    offenders = []
    for root in ("adbench", "plugins"):
        for path in (REPO / root).rglob("*.py"):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if "torch.load(" in line and "weights_only=True" not in line:
                    offenders.append(f"{path}:{n}")
    assert not offenders


def test_pool_hands_out_a_method_no_other_worker_is_running():
    """Cells come method by method; a free worker takes the first cell of another method, so two
    workers do not queue on one method's cost profile (or duplicate it)."""
    from adbench.executors.pool import next_cell
    from adbench.protocol.cells import Cell

    pending = list(enumerate(Cell(m, "synthetic", c, "unsupervised", 0, "smoke")
                             for m in ("a", "b") for c in ("x", "y")))
    assert next_cell(pending, set()) == 0
    assert pending[next_cell(pending, {"a"})][1].method == "b"
    assert next_cell(pending, {"a", "b"}) == 0  # nothing else left: the plan's order


def _live_group_members(pgid: int, wait: float = 5.0) -> list[str]:
    """Processes of the group that are still running (zombies awaiting their reaper are not)."""
    deadline = time.time() + wait
    while True:
        pids = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True).stdout.split()
        live = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, IndexError):
                continue
            if state != "Z":
                live.append(f"{pid} {Path(f'/proc/{pid}/cmdline').read_bytes()[:200]!r}")
        if not live or time.time() > deadline:
            return live
        time.sleep(0.1)


def test_ctrl_c_with_workers_keeps_rows_and_leaves_no_workers(tmp_path: Path, test_plugin_site: Path):
    """Ctrl-C in a terminal signals the whole process group: the parent and every worker.
    Finished rows stay, no partial row is left, no worker outlives the run, and the next run
    does only the missing cells."""
    out = tmp_path / "run"
    env = {**os.environ, **ENV, "PYTHONPATH": str(test_plugin_site)}
    args = [sys.executable, "-m", "adbench", "run", "sleepy", "--profile", "smoke", "--set", "sleep=1",
            "--workers", "2", "--out", str(out)]
    # the test plugin sends the group's Ctrl-C right after the second row is written
    interrupt = {"ADBENCH_TEST_INTERRUPT_AFTER": "2", "ADBENCH_TEST_INTERRUPT_COUNT": str(tmp_path / "count")}
    proc = subprocess.Popen(args, env={**env, **interrupt}, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert not _live_group_members(proc.pid), "a worker outlived the run"
    done = _rows(out)
    assert len(done) == 2 and all(r["status"] == "ok" for r in done.values())
    assert not [p for p in (out / "cells").iterdir() if p.suffix not in (".json", ".lock")]
    res = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"{len(done)} already done, {4 - len(done)} to run" in res.stderr
    assert len(_rows(out)) == 4


def test_workers_exit_when_the_parent_is_killed(tmp_path: Path, test_plugin_site: Path):
    """A parent killed outright (SIGKILL, out-of-memory killer) runs no clean-up; its workers
    notice and exit instead of training on as orphans that write rows into the folder later."""
    out = tmp_path / "run"
    inside = tmp_path / "inside"
    inside.mkdir()
    env = {**os.environ, **ENV, "PYTHONPATH": str(test_plugin_site), "ADBENCH_TEST_IN_FIT": str(inside)}
    proc = subprocess.Popen([sys.executable, "-m", "adbench", "run", "sleepy", "--profile", "smoke", "--set",
                             "sleep=60", "--workers", "2", "--out", str(out)], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and len(list(inside.iterdir())) < 2 and proc.poll() is None:
        time.sleep(0.05)  # polls for the event (both workers inside fit); its timing decides nothing
    assert len(list(inside.iterdir())) == 2, "both workers should be inside a cell's fit"
    proc.kill()
    proc.wait(timeout=30)
    assert not _live_group_members(proc.pid, wait=10), "a worker outlived its killed parent"
    assert not list((out / "cells").glob("*.json"))


def test_each_worker_sees_its_own_gpu(tmp_path: Path, test_plugin_site: Path, monkeypatch):
    """With several GPUs, worker i gets ``CUDA_VISIBLE_DEVICES=i``: every cell sees one device,
    and the cells spread over all of them. (The environment is what is checked; no GPU needed.)"""
    from adbench.config import load_catalogue
    from adbench.executors.base import RunSpec
    from adbench.executors.pool import PoolExecutor
    from adbench.protocol.cells import Cell

    monkeypatch.syspath_prepend(str(test_plugin_site))  # spawned workers start with this sys.path
    monkeypatch.setenv("ADBENCH_LOAD_PLUGINS", ENV["ADBENCH_LOAD_PLUGINS"])
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    cells = [Cell("sleepy", "synthetic", c, "unsupervised", 0, "smoke", overrides=(("sleep", "0.2"),))
             for c in ("wood", "pill", "fabric", "metal")]
    rows = PoolExecutor(workers=2, gpus=["0", "1"]).run(cells, RunSpec(tmp_path / "run", "cpu", load_catalogue()))
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows), [r.get("error") for r in rows]
    assert {r["fit_notes"]["cuda_visible_devices"] for r in rows} == {"0", "1"}


def test_a_late_result_from_a_replaced_worker_is_dropped():
    """A worker stopped at --cell-timeout may still have queued its result; its replacement
    runs another job, so the late result belongs to no worker (it must not raise)."""
    from types import SimpleNamespace

    from adbench.executors.pool import owner_of

    replacement, idle = SimpleNamespace(job=(7, "cell 7")), SimpleNamespace(job=None)
    assert owner_of([replacement, idle], 3) is None  # job 3 timed out; its worker was replaced
    assert owner_of([replacement, idle], None) is None  # the poll timed out: nothing arrived
    assert owner_of([replacement, idle], 7) is replacement
