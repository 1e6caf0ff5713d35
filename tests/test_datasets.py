"""Adapters on fixture trees in the exact published layouts, validation, download, cache."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adbench.config import DatasetSpec
from adbench.data.adapters import BTAD, Folder, MVTecAD, VisA
from adbench.data.download import download
from adbench.data.loading import load_samples
from adbench.data.sample import DatasetError, DatasetNotConfigured
from conftest import run_cli


def img(path: Path, size=(16, 12), mode="RGB", value=128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shape = (size[1], size[0]) + ((3,) if mode == "RGB" else ())
    Image.fromarray(np.full(shape, value, np.uint8), mode).save(path)
    return path


def mask(path: Path, size=(16, 12), empty=False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    m = np.zeros((size[1], size[0]), np.uint8)
    if not empty:
        m[2:5, 3:7] = 255
    Image.fromarray(m).save(path)
    return path


# -- MVTec AD ---------------------------------------------------------------------------
def mvtec_tree(root: Path, category="grid", grey=True) -> Path:
    mode = "L" if grey else "RGB"
    for i in range(3):
        img(root / category / "train" / "good" / f"{i:03d}.png", mode=mode)
    img(root / category / "test" / "good" / "000.png", mode=mode)
    for defect in ("bent", "glue"):
        img(root / category / "test" / defect / "000.png", mode=mode, value=200)
        mask(root / category / "ground_truth" / defect / "000_mask.png")
    return root


def test_mvtec_layout_and_grayscale_to_three_channels(tmp_path):
    ad = MVTecAD(DatasetSpec("m", "mvtec_ad", root=str(mvtec_tree(tmp_path))))
    train, test = ad.samples("grid", "train"), ad.samples("grid", "test")
    assert len(train) == 3 and [s.defect_type for s in test] == ["bent", "glue", "good"]
    assert all(s.mask_path.name == "000_mask.png" for s in test if s.label)
    assert train[0].load_image().shape == (12, 16, 3)
    t = load_samples(test, 8, use_cache=False)
    assert t.images.shape == (3, 3, 8, 8) and t.masks[0].any() and not t.masks[2].any()
    assert ad.check("grid") == []
    assert ad.categories()[0] == "bottle" and len(ad.categories()) == 15


def test_missing_root_is_not_configured_with_a_hint(tmp_path, monkeypatch):
    monkeypatch.delenv("MVTEC_AD_ROOT", raising=False)
    with pytest.raises(DatasetNotConfigured, match="MVTEC_AD_ROOT"):  # a root from the variable: set it
        MVTecAD(DatasetSpec("m", "mvtec_ad", root="${MVTEC_AD_ROOT}")).root()
    with pytest.raises(DatasetNotConfigured, match=r"nope does not exist; edit root") as err:  # a literal path
        MVTecAD(DatasetSpec("m", "mvtec_ad", root=str(tmp_path / "nope"))).root()
    assert "MVTEC_AD_ROOT" not in str(err.value), "no variable hint for a root that names no variable"


# -- validation problems, one test each --------------------------------------------------
def _check(root: Path) -> list:
    return MVTecAD(DatasetSpec("m", "mvtec_ad", root=str(root))).check("grid")


def test_check_missing_mask(tmp_path):
    root = mvtec_tree(tmp_path)
    (root / "grid" / "ground_truth" / "bent" / "000_mask.png").unlink()
    (p,) = [p for p in _check(root) if p.level == "error"]
    assert "missing mask" in p.message and p.path.name == "000_mask.png"
    with pytest.raises(DatasetError, match="000_mask.png"):
        MVTecAD(DatasetSpec("m", "mvtec_ad", root=str(root))).samples("grid", "test")


def test_check_mask_size_differs(tmp_path):
    root = mvtec_tree(tmp_path)
    mask(root / "grid" / "ground_truth" / "glue" / "000_mask.png", size=(20, 20))
    (p,) = _check(root)
    assert p.level == "error" and "20x20" in p.message and "16x12" in p.message


def test_check_unreadable_image(tmp_path):
    root = mvtec_tree(tmp_path)
    (root / "grid" / "train" / "good" / "001.png").write_bytes(b"not a png")
    (p,) = _check(root)
    assert p.level == "error" and "unreadable image" in p.message and p.path.name == "001.png"


def test_check_empty_category(tmp_path):
    root = mvtec_tree(tmp_path)
    for f in (root / "grid" / "train" / "good").iterdir():
        f.unlink()
    (p,) = _check(root)
    assert p.level == "error" and "empty category" in p.message


def test_check_stray_file(tmp_path):
    root = mvtec_tree(tmp_path)
    (root / "grid" / "train" / "good" / "notes.docx").write_text("x")
    (p,) = _check(root)
    assert p.level == "warning" and "stray" in p.message and p.path.name == "notes.docx"


def test_data_check_cli_strict_turns_warnings_into_errors(tmp_path):
    root = mvtec_tree(tmp_path / "data")
    (root / "grid" / "train" / "good" / "notes.docx").write_text("x")
    cat = tmp_path / "datasets.toml"
    cat.write_text(f'[mine]\nadapter = "mvtec_ad"\nroot = "{root}"\ncategories = ["grid"]\n')
    res = run_cli(["data", "check", "mine", "--datasets", str(cat)])
    assert res.returncode == 0 and "grid: train 3, test 3 (bent 1, glue 1, good 1)" in res.stdout
    assert "notes.docx" in res.stdout
    assert run_cli(["data", "check", "mine", "--datasets", str(cat), "--strict"]).returncode == 1


# -- BTAD ---------------------------------------------------------------------------------
def btad_tree(root: Path) -> Path:
    base = root / "BTech_Dataset_transformed"
    for product, (iext, mext) in {"01": (".bmp", ".png"), "02": (".png", ".png"), "03": (".bmp", ".bmp")}.items():
        for i in range(2):
            img(base / product / "train" / "ok" / f"{i:04d}{iext}")
        img(base / product / "test" / "ok" / f"0000{iext}")
        img(base / product / "test" / "ko" / f"0001{iext}")
        mask(base / product / "ground_truth" / "ko" / f"0001{mext}", empty=product == "03")
    return root


@pytest.mark.parametrize("below", [False, True])
def test_btad_masks_by_stem_whatever_the_extension(tmp_path, below):
    root = btad_tree(tmp_path)
    if below:
        root = root / "BTech_Dataset_transformed"
    ad = BTAD(DatasetSpec("b", "btad", root=str(root)))
    for product, mext in (("01", ".png"), ("02", ".png"), ("03", ".bmp")):
        test = ad.samples(product, "test")
        (anom,) = [s for s in test if s.label]
        assert anom.mask_path.suffix == mext and anom.defect_type == "ko"
        assert len(ad.samples(product, "train")) == 2
    assert ad.check("01") == []


def test_btad_empty_mask_is_a_warning_not_a_crash(tmp_path):
    ad = BTAD(DatasetSpec("b", "btad", root=str(btad_tree(tmp_path))))
    (p,) = ad.check("03")
    assert p.level == "warning" and "empty mask" in p.message
    t = load_samples(ad.samples("03", "test"), 8, use_cache=False)
    assert t.labels.tolist() == [0, 1] and not t.masks.any()


# -- VisA and folder ------------------------------------------------------------------------
def test_visa_split_csv(tmp_path):
    rows = ["object,split,label,image,mask"]
    for i in range(2):
        img(tmp_path / "candle/Data/Images/Normal" / f"{i}.JPG")
        rows.append(f"candle,train,normal,candle/Data/Images/Normal/{i}.JPG,")
    img(tmp_path / "candle/Data/Images/Anomaly/9.JPG")
    mask(tmp_path / "candle/Data/Masks/Anomaly/9.png")
    rows.append("candle,test,anomaly,candle/Data/Images/Anomaly/9.JPG,candle/Data/Masks/Anomaly/9.png")
    (tmp_path / "split_csv").mkdir()
    (tmp_path / "split_csv" / "1cls.csv").write_text("\n".join(rows) + "\n")
    ad = VisA(DatasetSpec("v", "visa", root=str(tmp_path)))
    assert len(ad.samples("candle", "train")) == 2
    (s,) = ad.samples("candle", "test")
    assert s.label == 1 and s.mask_path.name == "9.png"


def test_folder_adapter_good_bad_masks(tmp_path):
    for i in range(10):
        img(tmp_path / "line1" / "good" / f"g{i}.png")
    img(tmp_path / "line1" / "bad" / "dent" / "b0.png")
    img(tmp_path / "line1" / "bad" / "scratch" / "b1.png")
    mask(tmp_path / "line1" / "masks" / "b0.png")
    ad = Folder(DatasetSpec("f", "folder", root=str(tmp_path), options={"test_fraction": 0.3}))
    assert ad.categories() == ["line1"]
    train, test = ad.samples("line1", "train"), ad.samples("line1", "test")
    assert len(train) + sum(1 for s in test if s.label == 0) == 10
    assert {s.defect_type for s in test if s.label} == {"dent", "scratch"}
    warnings = [p for p in ad.check("line1") if p.level == "warning"]
    assert any("without a mask" in p.message and p.path.name == "b1.png" for p in warnings)


# -- download ------------------------------------------------------------------------------
def _tarball(tmp_path: Path, members: dict[str, bytes]) -> tuple[Path, str]:
    path = tmp_path / "archive.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_file_url_verifies_and_extracts(tmp_path):
    archive, sha = _tarball(tmp_path, {"mvtec/grid/readme.txt": b"hello"})
    out = download(archive.as_uri(), sha, tmp_path / "out")
    assert (out / "mvtec" / "grid" / "readme.txt").read_bytes() == b"hello"
    with pytest.raises(DatasetError, match="checksum mismatch"):
        download(archive.as_uri(), "0" * 64, tmp_path / "out2")
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").iterdir())


def test_download_refuses_path_traversal(tmp_path):
    archive, sha = _tarball(tmp_path, {"../evil.txt": b"x"})
    with pytest.raises(DatasetError, match="unsafe"):
        download(archive.as_uri(), sha, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()
    zpath = tmp_path / "evil.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("../../evil2.txt", "x")
    with pytest.raises(DatasetError, match="outside"):
        download(zpath.as_uri(), hashlib.sha256(zpath.read_bytes()).hexdigest(), tmp_path / "out3")


def test_download_cli_over_loopback_http(tmp_path):
    archive, sha = _tarball(tmp_path, {"btad/01/train/ok/0000.txt": b"ok"})
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{archive.name}"
        res = run_cli(["data", "download", "btad", "--to", str(tmp_path / "data"), "--url", url, "--sha256", sha])
        assert res.returncode == 0, res.stderr
        assert (tmp_path / "data" / "btad" / "01" / "train" / "ok" / "0000.txt").read_text() == "ok"
        res = run_cli(["data", "download", "visa", "--to", str(tmp_path / "d2"), "--url", url])
        assert res.returncode != 0 and "no checksum is known" in res.stderr
    finally:
        server.shutdown()


# -- tensor cache --------------------------------------------------------------------------
def test_tensor_cache_hits_and_invalidates(tmp_path, monkeypatch):
    monkeypatch.setenv("ADBENCH_CACHE", str(tmp_path / "cache"))
    ad = MVTecAD(DatasetSpec("m", "mvtec_ad", root=str(mvtec_tree(tmp_path / "d"))))
    samples = ad.samples("grid", "test")
    first = load_samples(samples, 8)
    assert len(list((tmp_path / "cache" / "tensors").glob("*.npz"))) == 1
    again = load_samples(samples, 8)
    assert np.array_equal(first.images.numpy(), again.images.numpy())
    assert len(list((tmp_path / "cache" / "tensors").glob("*.npz"))) == 1
    load_samples(samples, 16)  # another transform: another entry
    img(samples[0].path, value=10)  # an edited file: another entry, with the new pixels
    changed = load_samples(samples, 8)
    assert len(list((tmp_path / "cache" / "tensors").glob("*.npz"))) == 3
    assert not np.array_equal(changed.images[0].numpy(), first.images[0].numpy())


def test_concurrent_loads_decode_a_split_once(tmp_path, monkeypatch, second_lock_waiter):
    """Two workers asking for the same uncached split: one decodes, the other reads its entry.
    The decode waits until the second worker is at the entry's lock, so the two always overlap."""
    from concurrent.futures import ThreadPoolExecutor

    from adbench.data import loading

    monkeypatch.setenv("ADBENCH_CACHE", str(tmp_path / "cache"))
    samples = MVTecAD(DatasetSpec("m", "mvtec_ad", root=str(mvtec_tree(tmp_path / "d")))).samples("grid", "test")
    real, calls = loading._decode_all, []

    def slow_decode(*args):
        calls.append(1)
        assert second_lock_waiter.wait(timeout=60), "the second worker never reached the lock"
        return real(*args)

    monkeypatch.setattr(loading, "_decode_all", slow_decode)
    with ThreadPoolExecutor(2) as pool:  # two workers asking at once
        out = [f.result() for f in [pool.submit(lambda: load_samples(samples, 8)) for _ in range(2)]]
    assert len(calls) == 1 and len(out) == 2
    assert np.array_equal(out[0].images.numpy(), out[1].images.numpy())
