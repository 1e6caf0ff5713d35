"""Small file and environment helpers every layer shares: atomic writes, one locked cache
entry, and installed distribution versions (docs/architecture.md, "Where things live").

Everything that must never be seen half-written (result rows, split manifests, cache
entries, example maps) goes through :func:`write_atomic`: a temp file in the same folder,
flushed and fsynced, then renamed over the target.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import math
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, TypeVar

T = TypeVar("T")


def unwritable_folder(path: Path) -> str | None:
    """Why ``path`` cannot hold output files, or None when it can (it is then created): a file in
    its place, or a folder that cannot be created or written (read-only mount, no permission)."""
    if path.exists() and not path.is_dir():
        return f"{path} is a file, not a folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".adbench-write-check-"):
            pass
    except OSError as exc:
        return f"cannot write to {path} ({exc.strerror or exc})"
    return None


def write_atomic(path: Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(fh)`` on a temp file next to ``path``, then rename it over ``path``, so
    ``path`` always holds either the old content or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """``text`` as UTF-8, written atomically (report files, tables, pages)."""
    return write_atomic(path, lambda fh: fh.write(text.encode("utf-8")))


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy and torch scalars
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in JSON")


def json_safe(value: Any) -> Any:
    """NaN and infinities are not JSON: they become null, at any depth."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json_atomic(path: Path, data: Any) -> Path:
    """``data`` as indented JSON (NaN stored as null), written atomically."""
    text = json.dumps(json_safe(data), indent=1, default=_json_default, allow_nan=False)
    return write_atomic(path, lambda fh: fh.write(text.encode()))


def cached_entry(entry: Path, read: Callable[[Path], T], make: Callable[[], T],
                 write: Callable[[Path, T], Any]) -> tuple[T, bool]:
    """One cache entry's value, and whether it was already there.

    A hit is read without locking (``write`` must replace the file atomically). A miss is
    computed under a lock per entry, so concurrent workers (or ``adbench run`` processes)
    compute it once and the others wait and read it."""
    if entry.is_file():
        return read(entry), True
    from filelock import FileLock

    entry.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(entry.with_name(entry.name + ".lock"))):
        if entry.is_file():
            return read(entry), True
        value = make()
        write(entry, value)
        return value, False


def dist_version(dist: str) -> str | None:
    """The installed version of distribution ``dist``, or None when it is not installed."""
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None
