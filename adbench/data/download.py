"""``adbench data download``: fetch an archive, verify its sha256, extract it safely.

Works with any URL urllib understands (https, http, file). Extraction refuses absolute
paths, ``..`` components and links that leave the target (tarfile's ``data`` filter; the
same rules applied by hand to zip members). Nothing here runs during a benchmark.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable

from .sample import DatasetError


def fetch(url: str, dest: Path, progress: Callable[[int, int | None], None] | None = None,
          algorithm: str = "sha256") -> str:
    """Stream ``url`` to ``dest``; returns the hex digest of what was written."""
    h = hashlib.new(algorithm)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=60) as resp, dest.open("wb") as out:  # noqa: S310 - user-given URL
        total = resp.headers.get("Content-Length")
        done = 0
        while chunk := resp.read(1 << 20):
            out.write(chunk)
            h.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, int(total) if total else None)
    return h.hexdigest()


def _safe_zip_members(zf: zipfile.ZipFile, target: Path) -> None:
    root = target.resolve()
    for info in zf.infolist():
        name = PurePosixPath(info.filename)
        dest = (root / name).resolve()
        if name.is_absolute() or ".." in name.parts or not dest.is_relative_to(root):
            raise DatasetError(f"archive member {info.filename!r} would be written outside {target}; refusing to extract")
        if stat.S_ISLNK(info.external_attr >> 16):  # zipfile would write the link as a plain file
            raise DatasetError(f"archive member {info.filename!r} is a symbolic link; refusing to extract (the tar "
                               f"path refuses links that leave the folder, and a data set needs none)")


def extract(archive: Path, target: Path) -> None:
    """Extract a .tar(.gz|.xz|.bz2) or .zip into ``target`` without path traversal."""
    target.mkdir(parents=True, exist_ok=True)
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            try:
                tf.extractall(target, filter="data")
            except tarfile.FilterError as exc:
                raise DatasetError(f"{archive}: unsafe archive member ({exc}); refusing to extract") from exc
    elif zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            _safe_zip_members(zf, target)
            zf.extractall(target)
    else:
        raise DatasetError(f"{archive} is neither a tar nor a zip archive")


def download(url: str, sha256: str | None, target: Path, *, md5: str | None = None, verify: bool = True,
             progress: Callable[[int, int | None], None] | None = None) -> Path:
    """Download, verify (sha256, or the publisher's md5 where only that is known) and
    extract into ``target``; the archive is deleted afterwards."""
    if verify and not (sha256 or md5):
        raise DatasetError(f"no checksum is known for {url}; pass --sha256 HEX (as published) or --no-verify")
    algorithm, expected = ("sha256", sha256) if sha256 else ("md5", md5)
    if target.exists() and not target.is_dir():
        raise DatasetError(f"--to {target} is a file, not a folder; pass a folder to extract into (it is created "
                           f"if missing)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        archive = Path(tmp) / (os.path.basename(url.split("?")[0]) or "archive")
        got = fetch(url, archive, progress, algorithm)
        if verify and got.lower() != str(expected).lower():
            raise DatasetError(f"checksum mismatch for {url}: expected {algorithm} {expected}, got {got}; the "
                               f"download is corrupt or the file changed upstream. Nothing was extracted.")
        staging = Path(tmp) / "extract"
        extract(archive, staging)
        target.mkdir(parents=True, exist_ok=True)
        for entry in staging.iterdir():
            dest = target / entry.name
            if dest.exists():
                raise DatasetError(f"{dest} already exists; remove it or choose another --to folder")
            shutil.move(str(entry), dest)
    return target
