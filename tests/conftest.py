"""Shared fixtures: an isolated cache, a CLI runner, and throw-away plugin distributions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

# One synthetic-data cache for the whole session, outside the user's home.
os.environ.setdefault("ADBENCH_CACHE", tempfile.mkdtemp(prefix="adbench-test-cache-"))
# Empty weight caches, and no hub traffic: a test that needs a weights file builds a fake one.
# The user's own caches are remembered for the slow checks that need real published weights.
USER_WEIGHT_CACHES = {k: os.environ.get(k) for k in ("TORCH_HOME", "HF_HUB_CACHE", "HF_HOME")}
os.environ.setdefault("ADBENCH_TEST_USER_WEIGHT_CACHES", json.dumps(USER_WEIGHT_CACHES))
os.environ["TORCH_HOME"] = tempfile.mkdtemp(prefix="adbench-test-torch-")
os.environ["HF_HUB_CACHE"] = tempfile.mkdtemp(prefix="adbench-test-hf-")
os.environ["HF_HUB_OFFLINE"] = "1"

REPO = Path(__file__).resolve().parents[1]


def make_distribution(site: Path, dist: str, module: str, source: str, entry_points: dict[str, str],
                      version: str = "0.1") -> Path:
    """Write an installed-looking distribution (module + dist-info with entry points) into ``site``.

    Putting ``site`` on PYTHONPATH makes ``importlib.metadata`` discover its entry points
    exactly as it would for a pip-installed third-party plugin.
    """
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    eps = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[adbench]\n{eps}\n")
    return site


def run_cli(args: list[str], *, site: Path | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python -m adbench …`` in a subprocess with an optional extra plugin site."""
    full_env = dict(os.environ)
    if site is not None:
        full_env["PYTHONPATH"] = os.pathsep.join([str(site), full_env.get("PYTHONPATH", "")])
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "adbench", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd or REPO, timeout=timeout)


TEST_METHODS = '''
import os, time
import torch
from adbench import AnomalyOutput, FitReport, Method, hookimpl


class _Mean(torch.nn.Module):
    def forward(self, x):
        m = x.mean(dim=1)
        return AnomalyOutput(m.flatten(1).std(dim=1), m)


class Crashy(Method):
    name = "crashy"
    description = "raises in fit"
    profiles = {p: {"image_size": 32} for p in ("smoke", "quick", "paper")}

    def fit(self, train):
        raise RuntimeError("deliberate failure in fit")


class Sleepy(Method):
    name = "sleepy"
    profiles = {p: {"image_size": 32, "sleep": 1.5} for p in ("smoke", "quick", "paper")}

    def fit(self, train):
        inside = os.environ.get("ADBENCH_TEST_IN_FIT")
        if inside:  # tells a test this process is inside fit (no guessing with sleep)
            open(os.path.join(inside, str(os.getpid())), "w").close()
        time.sleep(self.cfg["sleep"])
        return FitReport(notes={"cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")})

    def model(self):
        return _Mean()


class KillMe(Method):
    """Simulates a worker killed mid-cell (out-of-memory killer, scheduler): SIGKILLs itself."""
    name = "killme"
    profiles = {p: {"image_size": 32} for p in ("smoke", "quick", "paper")}

    def fit(self, train):
        import signal
        os.kill(os.getpid(), signal.SIGKILL)


class Exiter(Method):
    """A plugin that calls sys.exit(): only its own cell may fail."""
    name = "exiter"
    profiles = {p: {"image_size": 32} for p in ("smoke", "quick", "paper")}

    def fit(self, train):
        import sys
        sys.exit(3)


class Interrupter(Method):
    """A plugin that raises KeyboardInterrupt itself (no Ctrl-C was pressed)."""
    name = "interrupter"
    profiles = {p: {"image_size": 32} for p in ("smoke", "quick", "paper")}

    def fit(self, train):
        raise KeyboardInterrupt


def _bad_output(name, make):
    """A method whose model returns ``make(x)`` (an AnomalyOutput outside the contract)."""
    class Bad(Method):
        profiles = {p: {"image_size": 32} for p in ("smoke", "quick", "paper")}

        def fit(self, train):
            return FitReport()

        def model(self):
            class M(torch.nn.Module):
                def forward(self, x):
                    return make(x)
            return M()
    Bad.name = name
    return Bad


NanScores = _bad_output("nanscores", lambda x: AnomalyOutput(torch.full((x.shape[0],), float("nan")), None))
BAD_OUTPUTS = [
    _bad_output("twochannels", lambda x: AnomalyOutput(x.mean((1, 2, 3)), x[:, :2])),
    _bad_output("oblong", lambda x: AnomalyOutput(x.mean((1, 2, 3)), x[:, 0, :, :16])),
    _bad_output("fewmaps", lambda x: AnomalyOutput(x.mean((1, 2, 3)), x[:1, 0])),
    _bad_output("fewscores", lambda x: AnomalyOutput(x.mean((1, 2, 3))[:1], x[:, 0])),
]


@hookimpl
def adbench_register_methods(register):
    register(Crashy)
    register(NanScores)
    register(Sleepy)
    register(KillMe)
    register(Exiter)
    register(Interrupter)
    for cls in BAD_OUTPUTS:
        register(cls)


@hookimpl
def adbench_cell_finished(row):
    log = os.environ.get("ADBENCH_TEST_FINISHED_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{row['cell_key']} {os.getpid()} {row['status']}\\n")
    after = os.environ.get("ADBENCH_TEST_INTERRUPT_AFTER")
    if after:  # a deterministic Ctrl-C: the whole process group, right after the N-th written row
        import fcntl, signal
        with open(os.environ["ADBENCH_TEST_INTERRUPT_COUNT"], "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.write("x")
            fh.flush()
            fh.seek(0)
            if len(fh.read()) == int(after):
                os.killpg(os.getpgid(0), getattr(signal, os.environ.get("ADBENCH_TEST_INTERRUPT_SIGNAL", "SIGINT")))
'''


@pytest.fixture(scope="session")
def test_plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A third-party-style distribution ``adbench-testplugins`` registering crashy/nanscores/sleepy."""
    return make_distribution(tmp_path_factory.mktemp("site"), "adbench_testplugins",
                             "adbench_testplugins", TEST_METHODS, {"testplugins": "adbench_testplugins"})


@pytest.fixture
def second_lock_waiter(monkeypatch):
    """An event set once a second caller is waiting on a file lock: a computation run under the
    first caller's lock waits for it, so the two callers are forced to overlap (no sleep that a
    loaded machine could outlast)."""
    import threading

    import filelock

    arrived = threading.Event()
    count = {"n": 0}
    guard = threading.Lock()
    real = filelock.FileLock.acquire

    def acquire(self, *args, **kwargs):
        with guard:
            count["n"] += 1
            if count["n"] >= 2:
                arrived.set()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(filelock.FileLock, "acquire", acquire)
    return arrived


def run_interrupted(out: Path, site: Path, extra: list[str], after: int = 2,
                    signal_name: str = "SIGINT") -> tuple[int, str]:
    """``adbench run sleepy`` in its own process group, with a Ctrl-C (or ``signal_name``) to the
    whole group right after the ``after``-th row is written (the test plugin's
    ``adbench_cell_finished`` sends it): a deterministic interruption point, whatever the
    machine's load. Returns (exit code, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(site), "ADBENCH_LOAD_PLUGINS": "testplugins",
           "ADBENCH_TEST_INTERRUPT_AFTER": str(after), "ADBENCH_TEST_INTERRUPT_COUNT": str(out.parent / "count"),
           "ADBENCH_TEST_INTERRUPT_SIGNAL": signal_name}
    args = [sys.executable, "-m", "adbench", "run", "sleepy", "--profile", "smoke", *extra, "--out", str(out)]
    proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err.decode()


def one_dataset(tmp_path: Path, adapter: str, root: Path, categories: list[str] | None = None) -> Path:
    """A ``datasets.toml`` in ``tmp_path`` holding one data set ``[mine]``."""
    path = tmp_path / "datasets.toml"
    cats = f"categories = {json.dumps(categories)}\n" if categories else ""
    path.write_text(f'[mine]\nadapter = "{adapter}"\nroot = "{root}"\n{cats}')
    return path


def run_sleepy(tmp_path: Path, site: Path, catalogue: Path, *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    """``adbench run sleepy`` (the test plugin: maps are the image's channel mean at 32 px) at
    smoke on data set ``mine`` of ``catalogue``; returns the process and the run folder."""
    out = tmp_path / "run"
    res = run_cli(["run", "sleepy", "--dataset", "mine", "--datasets", str(catalogue), "--profile", "smoke",
                   "--set", "sleep=0", "--set", "image_size=32", "--out", str(out), *extra],
                  site=site, env={"ADBENCH_LOAD_PLUGINS": "testplugins"})
    return res, out


def normal_tree(root: Path, category: str = "widget", side: int = 16, train: int = 4, test: int = 3) -> Path:
    """``<root>/<category>/{train,test}/good/NNN.png``: an MVTec-layout category with normal images only."""
    from PIL import Image
    import numpy as np

    for split, n in (("train/good", train), ("test/good", test)):
        for i in range(n):
            p = root / category / split / f"{i:03d}.png"
            p.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((side, side, 3), 40 * i % 256, np.uint8)).save(p)
    return root
