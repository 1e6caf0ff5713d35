"""Hostile but fair inputs: each bad input gets a clear message that names the offending file
or option, no traceback, the documented exit code, and no finished row is changed.

Most cases run the CLI in-process (click's runner) so the table stays fast; the cases that
need a third-party plugin or a real signal run it in a subprocess. The inputs covered are
listed in docs/hostile_inputs.md.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from adbench.cli import cli
from adbench.protocol.cells import Cell
from conftest import REPO, normal_tree, one_dataset, run_cli
from adbench.results.store import load_row


# -- fixtures: a finished row that nothing may change, and small data trees -------------
@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A run folder holding one finished (``ok``) row of the cell the run cases select."""
    run = tmp_path_factory.mktemp("finished")
    cell = Cell("convae", "synthetic", "fabric", profile="smoke")
    (run / "cells").mkdir()
    row = {"cell_key": cell.key, **cell.definition(), "status": "ok", "error": None, "image_auroc": 0.9,
           "started_at": "2026-01-01T00:00:00+00:00", "device": "cpu"}
    (run / "cells" / f"{cell.key}.json").write_text(json.dumps(row))
    return run


def _digest(run: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((run / "cells").glob("*.json"))}


def _png(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)
    return path


def mvtec(root: Path, category: str = "grid") -> Path:
    """A tiny valid MVTec-AD tree (3 train, 1 good and 2 anomalous test images)."""
    grey = np.full((12, 16), 128, np.uint8)
    for i in range(3):
        _png(root / category / "train" / "good" / f"{i:03d}.png", grey)
    _png(root / category / "test" / "good" / "000.png", grey)
    for defect in ("bent", "glue"):
        _png(root / category / "test" / defect / "000.png", np.full((12, 16), 200, np.uint8))
        m = np.zeros((12, 16), np.uint8)
        m[2:5, 3:7] = 255
        _png(root / category / "ground_truth" / defect / "000_mask.png", m)
    return root


def catalogue(tmp: Path, body: str) -> Path:
    path = tmp / "datasets.toml"
    path.write_text(body)
    return path


def mine(tmp: Path, root: Path | str, extra: str = "") -> Path:
    return catalogue(tmp, f'[mine]\nadapter = "mvtec_ad"\nroot = "{root}"\ncategories = ["grid"]\n{extra}')


# -- the table ---------------------------------------------------------------------------
@dataclass
class Bad:
    """One bad input: ``args`` (a function of the temp folder and the finished run folder
    may set up files first), the exit code, and text the message must contain."""

    id: str
    args: Callable[[Path, Path], list[str]]
    code: int
    says: tuple[str, ...]
    stdout: bool = False  # the message is part of a listing on stdout (data check), not an error
    env: tuple[tuple[str, str], ...] = ()  # environment variables of the case ("{tmp}": its temp folder)


def _run(*args: str) -> Callable[[Path, Path], list[str]]:
    return lambda tmp, run: ["run", "--profile", "smoke", "--out", str(run), *args]  # the case's flags win


def _with(setup: Callable[[Path], list[str]]) -> Callable[[Path, Path], list[str]]:
    return lambda tmp, run: setup(tmp)


def _toml(body: str, *cmd: str) -> Callable[[Path, Path], list[str]]:
    def make(tmp: Path, run: Path) -> list[str]:
        path = catalogue(tmp, body)
        return [c.replace("{cat}", str(path)).replace("{run}", str(run)) for c in cmd]
    return make


def _broken_tree(change: Callable[[Path], object], *cmd: str) -> Callable[[Path, Path], list[str]]:
    """An MVTec tree with one thing broken by ``change``, and a command on it."""
    def make(tmp: Path, run: Path) -> list[str]:
        root = mvtec(tmp / "data")
        change(root / "grid")
        path = mine(tmp, root)
        return [c.replace("{cat}", str(path)).replace("{run}", str(run)).replace("{root}", str(root)) for c in cmd]
    return make


def _rows_folder(write: Callable[[Path], object]) -> Callable[[Path, Path], list[str]]:
    """A copy of the finished run folder with one more, bad, row file; then a report of it."""
    def make(tmp: Path, run: Path) -> list[str]:
        copy = tmp / "copy"
        (copy / "cells").mkdir(parents=True)
        for p in (run / "cells").glob("*.json"):
            (copy / "cells" / p.name).write_bytes(p.read_bytes())
        write(copy / "cells")
        return ["report", str(copy), "--format", "csv,md", "--out", str(tmp / "rep")]
    return make


def _archive(kind: str) -> Callable[[Path, Path], list[str]]:
    def make(tmp: Path, run: Path) -> list[str]:
        path = tmp / f"bad.{kind}"
        if kind == "zip":
            with zipfile.ZipFile(path, "w") as zf:
                info = zipfile.ZipInfo("data/link")
                info.external_attr = (0o120777 << 16)  # a symbolic link member
                zf.writestr(info, "/etc/passwd")
        else:
            with tarfile.open(path, "w:gz") as tf:
                data = b"x"
                info = tarfile.TarInfo("../escape.txt")
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        return ["data", "download", "mvtec_ad", "--to", str(tmp / "out"), "--url", path.as_uri(), "--sha256", sha]
    return make


CASES = [
    # run: options are checked before any cell starts (exit 2, usage line)
    Bad("workers-zero", _run("convae", "--workers", "0"), 2, ("--workers",)),
    Bad("workers-negative", _run("convae", "--workers", "-3"), 2, ("--workers",)),
    Bad("k-anomalies-negative", _run("capsnet", "--k-anomalies", "-1"), 2, ("--k-anomalies",)),
    Bad("k-anomalies-zero", _run("capsnet", "--k-anomalies", "0"), 2, ("--k-anomalies",)),
    Bad("ratio-above-one", _run("capsnet", "--anomaly-ratio", "2"), 2, ("--anomaly-ratio", "between 0 and 1")),
    Bad("ratio-negative-and-zero", _run("capsnet", "--anomaly-ratio", "-0.5,0"), 2, ("--anomaly-ratio",)),
    Bad("ratio-one", _run("capsnet", "--anomaly-ratio", "1"), 2, ("--anomaly-ratio",)),
    Bad("ratio-not-a-number", _run("capsnet", "--anomaly-ratio", "abc"), 2, ("--anomaly-ratio", "'abc'")),
    Bad("seed-not-a-number", _run("convae", "--seed", "x"), 2, ("--seed", "'x'")),
    Bad("seed-negative", _run("convae", "--seed", "-1"), 2, ("--seed",)),
    Bad("seeds-zero", _run("convae", "--seeds", "0"), 2, ("--seeds",)),
    Bad("seed-and-seeds", _run("convae", "--seed", "1", "--seeds", "2"), 2, ("--seed", "--seeds")),
    Bad("set-not-an-int", _run("convae", "--set", "image_size=abc"), 2, ("--set", "image_size=abc", "integer")),
    Bad("set-float-for-int", _run("convae", "--set", "epochs=1.5"), 2, ("--set", "epochs")),
    Bad("set-not-a-bool", _run("pyramidal_ae", "--set", "augment=maybe"), 2, ("--set", "augment", "boolean")),
    Bad("set-unknown-key", _run("convae", "--set", "nosuchkey=1"), 2, ("--set", "nosuchkey")),
    Bad("set-unknown-choice", _run("segnet", "--set", "head_init=xavier"), 2, ("--set", "head_init", "'prior'")),
    Bad("set-without-equals", _run("convae", "--set", "epochs"), 2, ("--set", "KEY=VALUE")),
    Bad("device-tpu", _run("convae", "--device", "tpu"), 2, ("--device", "'tpu'")),
    Bad("device-cuda-colon-x", _run("convae", "--device", "cuda:x"), 2, ("--device",)),
    Bad("cell-timeout-negative", _run("convae", "--cell-timeout", "-5"), 2, ("--cell-timeout",)),
    Bad("cell-timeout-zero", _run("convae", "--cell-timeout", "0"), 2, ("--cell-timeout",)),
    Bad("shard-out-of-range", _run("convae", "--shard", "5/4"), 2, ("--shard",)),
    Bad("shard-not-a-fraction", _run("convae", "--shard", "abc"), 2, ("--shard",)),
    Bad("profile-unknown", _run("convae", "--profile", "nosuch"), 2, ("--profile",)),
    Bad("track-unknown", _run("convae", "--track", "nosuch"), 2, ("--track",)),
    Bad("executor-config-missing", _run("convae", "--executor-config", "/nonexistent/x.toml"), 2,
        ("--executor-config",)),
    # run: a selection that names nothing real (exit 1, says what exists)
    Bad("method-unknown", _run("nosuchmethod"), 1, ("nosuchmethod",)),
    Bad("dataset-unknown", _run("convae", "--dataset", "nosuch"), 1, ("'nosuch'",)),
    Bad("category-unknown", _run("convae", "--category", "nosuch"), 1, ("nosuch", "fabric")),
    Bad("track-unsupported-selects-nothing", _run("convae", "--track", "supervised"), 1,
        ("nothing to run", "supervised")),
    Bad("executor-unknown", _run("convae", "--executor", "nosuch"), 1, ("nosuch",)),
    Bad("datasets-file-missing", _run("convae", "--datasets", "/nonexistent/datasets.toml"), 1,
        ("/nonexistent/datasets.toml",)),
    Bad("device-cuda-without-gpu", _run("convae", "--device", "cuda"), 1, ("--device cuda", "--device cpu")),
    # datasets.toml: every value is type-checked, one line naming file, key and type
    Bad("toml-root-int", _toml('[m]\nadapter = "mvtec_ad"\nroot = 5\n', "run", "convae", "--dataset", "m",
                               "--datasets", "{cat}", "--out", "{run}"), 1, ("datasets.toml", "root = 5", "string")),
    Bad("toml-adapter-list", _toml('[m]\nadapter = ["mvtec_ad"]\nroot = "/x"\n', "list", "datasets"), 1,
        ("datasets.toml", "adapter", "string")),
    Bad("toml-categories-string", _toml('[m]\nadapter = "mvtec_ad"\nroot = "/x"\ncategories = "widget"\n',
                                        "run", "convae", "--dataset", "m", "--datasets", "{cat}", "--out", "{run}"),
        1, ("categories = 'widget'", "list of strings")),
    Bad("toml-categories-empty", _toml('[m]\nadapter = "mvtec_ad"\nroot = "/x"\ncategories = []\n',
                                       "data", "check", "m", "--datasets", "{cat}"), 1,
        ("categories = []", "non-empty list")),
    Bad("toml-categories-numbers", _toml('[m]\nadapter = "mvtec_ad"\nroot = "/x"\ncategories = [1, 2]\n',
                                         "data", "check", "m", "--datasets", "{cat}"), 1, ("categories",)),
    Bad("toml-image-size-string", _toml('[m]\nadapter = "mvtec_ad"\nroot = "/x"\nimage_size = "big"\n',
                                        "data", "check", "m", "--datasets", "{cat}"), 1,
        ("image_size", "positive integer")),
    Bad("toml-image-size-negative", _toml('[m]\nadapter = "mvtec_ad"\nroot = "/x"\nimage_size = -1\n',
                                          "data", "check", "m", "--datasets", "{cat}"), 1, ("image_size",)),
    Bad("toml-sha256-short", _toml('[m]\nadapter = "mvtec_ad"\nroot = "/x"\nsha256 = "abc"\n',
                                   "data", "download", "m", "--to", "/tmp/x", "--datasets", "{cat}"), 1,
        ("sha256", "64 hex")),
    Bad("toml-syntax-error", _toml('[m\nadapter = "mvtec_ad"\n', "data", "check", "m", "--datasets", "{cat}"), 1,
        ("datasets.toml", "invalid TOML")),
    Bad("toml-table-without-adapter", _toml('[m]\nroot = "/x"\n', "data", "check", "m", "--datasets", "{cat}"), 1,
        ("[m]", "adapter")),
    Bad("toml-adapter-unknown", _toml('[m]\nadapter = "nosuch"\nroot = "/x"\n', "data", "check", "m",
                                      "--datasets", "{cat}"), 1, ("nosuch", "list adapters")),
    # data sets on disk
    Bad("root-is-a-file", lambda tmp, run: ["data", "check", "mine", "--datasets",
                                            str(mine(tmp, _file(tmp / "root.txt")))], 1,
        ("root.txt", "is a file, not a folder")),
    Bad("root-missing", lambda tmp, run: ["data", "check", "mine", "--datasets", str(mine(tmp, tmp / "nope"))], 1,
        ("does not exist",)),
    Bad("category-folder-missing", _broken_tree(lambda g: __import__("shutil").rmtree(g), "data", "check", "mine",
                                                "--datasets", "{cat}"), 1, ("grid",), stdout=True),
    Bad("empty-category-run", _broken_tree(lambda g: [p.unlink() for p in (g / "train" / "good").iterdir()],
                                           "run", "convae", "--dataset", "mine", "--datasets", "{cat}",
                                           "--profile", "smoke", "--out", "{run}"),
        1, ("no train images", "grid")),
    Bad("missing-mask", _broken_tree(lambda g: (g / "ground_truth" / "bent" / "000_mask.png").unlink(),
                                     "data", "check", "mine", "--datasets", "{cat}"), 1,
        ("000_mask.png", "missing mask"), stdout=True),
    Bad("mask-size-differs", _broken_tree(
        lambda g: _png(g / "ground_truth" / "bent" / "000_mask.png", np.zeros((5, 5), np.uint8)),
        "data", "check", "mine", "--datasets", "{cat}"), 1, ("000_mask.png", "5x5"), stdout=True),
    Bad("corrupt-image", _broken_tree(lambda g: (g / "train" / "good" / "001.png").write_bytes(b"not a png"),
                                      "data", "check", "mine", "--datasets", "{cat}"), 1,
        ("001.png", "unreadable image"), stdout=True),
    Bad("mask-with-grey-values-strict", _broken_tree(
        lambda g: _png(g / "ground_truth" / "bent" / "000_mask.png", np.tile(np.arange(16, dtype=np.uint8) * 8,
                                                                              (12, 1))),
        "data", "check", "mine", "--strict", "--datasets", "{cat}"), 1,
        ("000_mask.png", "other than 0 and 255"), stdout=True),
    Bad("mask-without-image-strict", _broken_tree(
        lambda g: _png(g / "ground_truth" / "bent" / "007_mask.png", np.zeros((12, 16), np.uint8)),
        "data", "check", "mine", "--strict", "--datasets", "{cat}"), 1,
        ("007_mask.png", "mask without an image"), stdout=True),
    Bad("stray-file-strict", _broken_tree(lambda g: (g / "train" / "good" / "notes.txt").write_text("x"),
                                          "data", "check", "mine", "--strict", "--datasets", "{cat}"), 1,
        ("notes.txt", "stray"), stdout=True),
    Bad("data-check-unknown-set", lambda tmp, run: ["data", "check", "nosuch"], 1, ("nosuch",)),
    # reports
    Bad("report-out-is-a-file", lambda tmp, run: ["report", str(run), "--out", str(_file(tmp / "f.txt"))], 1,
        ("f.txt", "is a file")),
    # round 2 (#41): output folders that cannot be written, named before any cell runs
    Bad("run-out-is-a-file", lambda tmp, run: ["run", "convae", "--profile", "smoke", "--category", "fabric",
                                               "--out", str(_file(tmp / "o.txt"))], 2, ("--out", "o.txt", "is a file")),
    Bad("run-out-unwritable", lambda tmp, run: ["run", "convae", "--profile", "smoke", "--category", "fabric",
                                                "--out", "/proc/adbench-out"], 2,
        ("--out", "cannot write to /proc/adbench-out")),
    Bad("cache-is-a-file", lambda tmp, run: _after(_file(tmp / "c.txt"), ["run", "convae", "--profile", "smoke",
                                                                           "--category", "fabric", "--out", str(tmp / "r")]), 1,
        ("ADBENCH_CACHE", "c.txt", "is a file"), env=(("ADBENCH_CACHE", "{tmp}/c.txt"),)),
    Bad("report-out-unwritable", lambda tmp, run: ["report", str(run), "--out", "/proc/adbench-report"], 1,
        ("cannot write to /proc/adbench-report",)),
    Bad("report-format-unknown", lambda tmp, run: ["report", str(run), "--format", "nosuch"], 2,
        ("--format", "nosuch")),
    Bad("report-format-empty", lambda tmp, run: ["report", str(run), "--format", ","], 2, ("--format",)),
    Bad("report-no-rows", lambda tmp, run: ["report", str(tmp / "empty")], 1, ("no result rows",)),
    Bad("report-costs-missing", lambda tmp, run: ["report", str(run), "--costs", str(tmp / "nowhere"),
                                                  "--out", str(tmp / "rep")], 1,
        ("nowhere", "adbench profile all --out")),
    Bad("report-costs-not-a-profile", lambda tmp, run: ["report", str(run), "--costs", str(_file(tmp / "c.csv",
                                                                                              "a,b\n1,2\n")),
                                                        "--out", str(tmp / "rep")], 1, ("c.csv", "not an")),
    Bad("report-row-invalid-json", _rows_folder(lambda d: (d / "0000000000000bad.json").write_text("{oops")), 0,
        ("0000000000000bad.json", "not valid JSON", "rerun")),
    Bad("report-row-json-list", _rows_folder(lambda d: (d / "00000000000list1.json").write_text("[1, 2]")), 0,
        ("00000000000list1.json", "list")),
    Bad("report-row-without-cell-key", _rows_folder(
        lambda d: (d / "00000000000nokey.json").write_text('{"method": "x"}')), 0,
        ("00000000000nokey.json", "no cell_key")),
    Bad("report-row-binary", _rows_folder(lambda d: (d / "0000000000binary.json").write_bytes(b"\xff\xfe\x00")), 0,
        ("0000000000binary.json",)),
    Bad("report-row-metric-nan", _rows_folder(lambda d: (d / "00000000000nan01.json").write_text(
        '{"cell_key": "00000000000nan01", "method": "convae", "dataset": "synthetic", "category": "fabric", '
        '"status": "ok", "schema": 2, "metrics": {"image_auroc": NaN}}')), 0,
        ("00000000000nan01.json", "image_auroc", "not a finite number")),
    Bad("report-row-key-mismatch", _rows_folder(
        lambda d: (d / "000000000mismatch.json").write_text('{"cell_key": "other", "status": "ok"}')), 0,
        ("000000000mismatch.json", "'other'")),
    # downloads
    Bad("download-to-a-file", lambda tmp, run: ["data", "download", "mvtec_ad", "--to", str(_file(tmp / "t")),
                                                "--url", "file:///nonexistent.tar"], 1, ("--to", "is a file")),
    Bad("download-unknown-set", lambda tmp, run: ["data", "download", "nosuch", "--to", str(tmp)], 1, ("nosuch",)),
    Bad("download-zip-symlink", _archive("zip"), 1, ("data/link", "symbolic link")),
    Bad("download-tar-traversal", _archive("tar.gz"), 1, ("unsafe archive member",)),
    Bad("download-checksum-mismatch", lambda tmp, run: ["data", "download", "mvtec_ad", "--to", str(tmp / "o"),
                                                        "--url", _file(tmp / "a.tar", "x").as_uri(),
                                                        "--sha256", "0" * 64], 1, ("checksum mismatch",)),
    Bad("download-missing-file", lambda tmp, run: ["data", "download", "mvtec_ad", "--to", str(tmp / "o"),
                                                   "--url", (tmp / "none.tar").as_uri(), "--sha256", "0" * 64], 1,
        ("none.tar",)),
    Bad("download-no-checksum", lambda tmp, run: ["data", "download", "visa", "--to", str(tmp / "o")], 1,
        ("no checksum", "--sha256")),
    # other commands
    Bad("new-plugin-bad-name", lambda tmp, run: ["new-plugin", "1bad name", "--dir", str(tmp)], 1, ("1bad name",)),
    Bad("new-plugin-exists", lambda tmp, run: ["new-plugin", "dup", "--dir", str(_dir(tmp / "adbench-dup").parent)],
        1, ("adbench-dup",)),
    Bad("profile-precision-unknown", lambda tmp, run: ["profile", "convae", "--precision", "fp8"], 1, ("fp8",)),
    Bad("profile-method-unknown", lambda tmp, run: ["profile", "nosuch"], 1, ("nosuch",)),
    Bad("list-unknown-kind", lambda tmp, run: ["list", "nosuch"], 2, ("nosuch",)),
]


def _after(_made: object, args: list[str]) -> list[str]:
    """``args``, once whatever the first argument made exists (a file the case needs)."""
    return args


def _file(path: Path, text: str = "x") -> Path:
    path.write_text(text)
    return path


def _dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_the_table_covers_at_least_sixty_bad_inputs():
    assert len(CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_a_clear_message(case: Bad, finished: Path, tmp_path: Path, monkeypatch):
    # a valid catalogue at tmp/datasets.toml; the datasets.toml cases overwrite this very file
    # (`list datasets` has no --datasets option, so it reads ADBENCH_DATASETS)
    monkeypatch.setenv("ADBENCH_DATASETS", str(catalogue(tmp_path, (REPO / "datasets.toml").read_text())))
    for name, value in case.env:
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    args = case.args(tmp_path, finished)
    before = _digest(finished)
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    shown = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == case.code, (args, shown)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in shown
    for text in case.says:
        assert text in (result.stdout if case.stdout else shown), (text, shown)
    after = _digest(finished)
    assert {k: after.get(k) for k in before} == before, "a finished row changed"


# -- the bugs, one test each --------------------------------------------------------------
@pytest.mark.parametrize("fmt, mode, dtype, top", [
    ("png", "I;16", np.uint16, 65535), ("tiff", "I;16", np.uint16, 65535), ("png", "L", np.uint8, 255),
    ("bmp", "L", np.uint8, 255), ("jpeg", "L", np.uint8, 255), ("png", "RGB", np.uint8, 255),
    ("png", "RGBA", np.uint8, 255), ("tiff", "RGB", np.uint8, 255), ("png", "P", np.uint8, 255),
    ("tiff", "I", np.int32, 65535),
])
def test_every_bit_depth_and_format_decodes_to_correct_values(tmp_path, fmt, mode, dtype, top):
    from adbench.data.sample import HIGH_BIT_DEPTH_NOTE, read_rgb_noted

    ramp = (np.linspace(0, 1, 32)[None, :] * np.ones((8, 1))) * top
    if mode in ("RGB", "RGBA"):
        arr = np.stack([ramp] * (4 if mode == "RGBA" else 3), -1).astype(dtype)
        if mode == "RGBA":
            arr[..., 3] = 255
        im = Image.fromarray(arr, mode)
    elif mode == "P":
        im = Image.fromarray(ramp.astype(np.uint8), "L").convert("P")
    else:
        im = Image.fromarray(ramp.astype(dtype), None if mode in ("I;16", "I") else mode)
    path = tmp_path / f"x.{fmt}"
    im.save(path)
    rgb, note = read_rgb_noted(path)
    expected = np.round(ramp * 255.0 / top)
    assert rgb.shape == (8, 32, 3) and rgb.dtype == np.uint8
    tolerance = 6 if fmt == "jpeg" else 1
    assert np.abs(rgb[..., 0].astype(int) - expected).max() <= tolerance, (rgb[0, :, 0], expected[0])
    assert rgb[..., 0].min() <= tolerance and rgb[..., 0].max() >= 255 - tolerance  # not saturated, not black
    assert (note == HIGH_BIT_DEPTH_NOTE) == (top > 255)


def test_a_48_bit_rgb_png_decodes_to_correct_values(tmp_path):
    """Pillow reduces 16-bit-per-channel RGB PNGs to 8 bits itself (correctly, by the high
    byte); written here by hand, since Pillow cannot write them."""
    import struct
    import zlib

    from adbench.data.sample import read_rgb

    ramp = (np.linspace(0, 1, 32)[None, :, None] * np.ones((8, 1, 3)) * 65535).astype(np.uint16)
    raw = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in ramp)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path = tmp_path / "rgb48.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 8, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    rgb = read_rgb(path)
    assert np.abs(rgb.astype(int) - np.round(ramp / 257.0)).max() <= 1


def test_a_16_bit_data_set_runs_with_real_values_and_records_the_scaling(tmp_path):
    """The old decoder turned 16-bit grey into an all-white image and wrote ``ok`` rows at
    AUROC 0.5; now anomalies stay visible and the row says the images were scaled."""
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for i in range(8):
        _png(root / "grid" / "train" / "good" / f"{i:03d}.png", (rng.random((32, 32)) * 2000 + 20000).astype(np.uint16))
    for i in range(4):
        _png(root / "grid" / "test" / "good" / f"{i:03d}.png", (rng.random((32, 32)) * 2000 + 20000).astype(np.uint16))
        bad = (rng.random((32, 32)) * 2000 + 20000).astype(np.uint16)
        bad[8:16, 8:16] = 60000
        _png(root / "grid" / "test" / "spot" / f"{i:03d}.png", bad)
        m = np.zeros((32, 32), np.uint8)
        m[8:16, 8:16] = 255
        _png(root / "grid" / "ground_truth" / "spot" / f"{i:03d}_mask.png", m)
    cat = mine(tmp_path, root)
    out = tmp_path / "run"
    res = run_cli(["run", "convae", "--dataset", "mine", "--datasets", str(cat), "--profile", "smoke",
                   "--out", str(out)])
    assert res.returncode == 0, res.stderr
    (row,) = [load_row(p) for p in (out / "cells").glob("*.json")]
    assert row["status"] == "ok" and row["image_auroc"] > 0.9
    # 8 training images + 4 good + 4 anomalous test images, all 16-bit
    assert row["decode_notes"] == {"more than 8 bits per sample, scaled to 8 bits by the full range of its type": 16}


def test_system_exit_and_keyboard_interrupt_in_a_plugin_fail_only_their_cells(tmp_path, test_plugin_site):
    out = tmp_path / "run"
    res = run_cli(["run", "exiter", "interrupter", "sleepy", "--profile", "smoke", "--category", "wood",
                   "--set", "image_size=32", "--out", str(out)], site=test_plugin_site,
                  env={"ADBENCH_LOAD_PLUGINS": "testplugins"})
    assert res.returncode == 1 and "Traceback" not in res.stderr
    rows = {load_row(p)["method"]: load_row(p) for p in (out / "cells").glob("*.json")}
    assert rows["exiter"]["status"] == "error" and "SystemExit: 3" in rows["exiter"]["error"]
    assert "sys.exit()" in rows["exiter"]["error"]
    assert rows["interrupter"]["status"] == "error" and "not by Ctrl-C" in rows["interrupter"]["error"]
    assert rows["sleepy"]["status"] == "ok", "the cells after them still ran"
    assert "FAILED exiter" in res.stderr and "FAILED interrupter" in res.stderr


@pytest.mark.parametrize("method, says", [
    ("twochannels", "anomaly_maps has shape"), ("oblong", "square maps"), ("fewmaps", "1 anomaly maps for a batch of"),
    ("fewscores", "image_scores must be a tensor of shape"),
])
def test_maps_and_scores_outside_the_contract_are_errors_naming_the_method(tmp_path, test_plugin_site, method,
                                                                           says):
    out = tmp_path / "run"
    res = run_cli(["run", method, "--profile", "smoke", "--category", "wood", "--out", str(out)],
                  site=test_plugin_site, env={"ADBENCH_LOAD_PLUGINS": "testplugins"})
    assert res.returncode == 1
    (row,) = [load_row(p) for p in (out / "cells").glob("*.json")]
    assert row["status"] == "error" and f"method {method!r}" in row["error"] and says in row["error"], row["error"]


def test_a_corrupt_row_is_skipped_with_a_warning_and_its_cell_runs_again(tmp_path):
    out = tmp_path / "run"
    args = ["run", "convae", "--profile", "smoke", "--category", "fabric", "--out", str(out)]
    assert run_cli(args).returncode == 0
    (path,) = list((out / "cells").glob("*.json"))
    path.write_text('{"cell_key": "truncated')
    res = run_cli(args)
    assert res.returncode == 0, res.stderr
    assert f"warning: result row {path} is not valid JSON" in res.stderr and "will run again" in res.stderr
    assert "1 to run" in res.stderr and load_row(path)["status"] == "ok"


def test_docs_list_every_bad_input():
    from conftest import REPO

    doc = (REPO / "docs" / "hostile_inputs.md").read_text()
    missing = [c.id for c in CASES if f"`{c.id}`" not in doc]
    assert not missing, f"docs/hostile_inputs.md does not list {missing}"


# -- round 2: the weak cases --------------------------------------------------------------
def test_methods_joined_by_a_comma_get_the_spaces_hint():
    res = run_cli(["run", "convae,unet", "--profile", "smoke"])
    assert res.returncode != 0 and "separated by spaces" in res.stderr and "convae unet" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_category_named_twice_is_one_cell(tmp_path):
    from adbench.config import load_catalogue
    from adbench.protocol.plan import plan_cells

    cells, _ = plan_cells(["convae"], load_catalogue(), datasets=["synthetic"], categories=["wood", "wood"],
                          track=None, profile="smoke", seeds=[0])
    assert [c.category for c in cells] == ["wood"]


def test_an_absurd_image_size_is_named_before_any_cell(tmp_path):
    res = run_cli(["run", "convae", "--profile", "smoke", "--set", "image_size=100000", "--out", str(tmp_path / "r")])
    assert res.returncode == 2 and "image_size=100000" in res.stderr and "8192" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "r" / "cells").exists()


def test_a_catalogue_that_is_a_folder_and_a_root_that_loops_are_named(tmp_path):
    res = run_cli(["list", "datasets"], env={"ADBENCH_DATASETS": str(tmp_path)})
    assert res.returncode != 0 and "is a folder" in res.stderr and "Traceback" not in res.stderr
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    catalogue = tmp_path / "datasets.toml"
    catalogue.write_text(f'[mine]\nadapter = "mvtec_ad"\nroot = "{loop}"\n')
    res = run_cli(["run", "convae", "--dataset", "mine", "--datasets", str(catalogue), "--profile", "smoke",
                   "--out", str(tmp_path / "r")])
    assert res.returncode != 0 and "symbolic link" in res.stderr and "MVTEC_AD_ROOT" not in res.stderr
    assert "Traceback" not in res.stderr


def test_a_test_split_of_one_class_fails_before_training_naming_category_and_folder(tmp_path):
    root = normal_tree(tmp_path / "data")
    catalogue = one_dataset(tmp_path, "mvtec_ad", root, ["widget"])
    check = run_cli(["data", "check", "mine", "--datasets", str(catalogue)])
    assert check.returncode != 0 and "no anomalous image" in check.stdout + check.stderr
    res = run_cli(["run", "convae", "--dataset", "mine", "--datasets", str(catalogue), "--profile", "smoke",
                   "--out", str(tmp_path / "r")])
    from adbench.results.store import load_row

    rows = [load_row(p) for p in (tmp_path / "r" / "cells").glob("*.json")]
    assert res.returncode == 1 and len(rows) == 1 and rows[0]["status"] == "error"
    assert "'widget'" in rows[0]["error"] and str(root / "widget") in rows[0]["error"]
    assert "no anomalous image" in rows[0]["error"]
    assert "fit_wall_s" not in rows[0], "it failed before any training"


@pytest.mark.parametrize("content", [
    '{"cell_key": "00000000000str01", "method": "convae", "dataset": "synthetic", "category": "fabric", '
    '"status": "ok", "schema": 2, "metrics": {"image_auroc": "high"}}',
    "{oops",
])
def test_a_bad_row_says_its_fix_once(content, tmp_path, capsys):
    from adbench.results.store import ResultStore

    cells = tmp_path / "run" / "cells"
    cells.mkdir(parents=True)
    (cells / "00000000000str01.json").write_text(content)
    assert list(ResultStore(tmp_path / "run").rows()) == []
    err = capsys.readouterr().err
    assert "00000000000str01.json" in err and err.count("rerun the same `adbench run` command") == 1, err


def test_data_check_reports_an_exif_rotation_and_a_tiny_image(tmp_path):
    import numpy as np
    from PIL import Image

    root = normal_tree(tmp_path / "data", side=64, train=3, test=2)
    rotated = root / "widget" / "train" / "good" / "001.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    Image.fromarray(np.full((64, 48, 3), 90, np.uint8)).save(rotated, exif=exif)
    Image.fromarray(np.full((1, 1, 3), 90, np.uint8)).save(root / "widget" / "train" / "good" / "002.png")
    bad = root / "widget" / "test" / "crack" / "000.png"
    bad.parent.mkdir(parents=True)
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(bad)
    (root / "widget" / "ground_truth" / "crack").mkdir(parents=True)
    Image.fromarray(np.full((64, 64), 255, np.uint8)).save(root / "widget" / "ground_truth" / "crack" / "000_mask.png")
    res = run_cli(["data", "check", "mine", "--datasets", str(one_dataset(tmp_path, "mvtec_ad", root, ["widget"]))])
    shown = res.stdout + res.stderr
    assert "001.jpg" in shown and "EXIF orientation tag 6" in shown
    assert "002.png" in shown and "only 1x1 px" in shown
    assert "Traceback" not in shown
