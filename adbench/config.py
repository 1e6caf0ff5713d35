"""Where adbench finds its settings: ``datasets.toml`` and the cache folder."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .errors import DatasetError, UnknownDataset

REPO_ROOT = Path(__file__).resolve().parents[1]


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_text(text: str, kind: type) -> Any:
    """Command-line text as ``kind`` (``bool``, ``int`` or ``float``; booleans are 1/true/yes/on
    or 0/false/no/off); ``ValueError`` when it is not one. Used by ``--set`` and executor options."""
    if kind is bool:
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise ValueError(f"{text!r} is not a boolean")
    return kind(text)


def cache_dir() -> Path:
    """``$ADBENCH_CACHE``, else ``~/.cache/adbench``: synthetic data and tensor caches."""
    env = os.environ.get("ADBENCH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "adbench"


def datasets_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The catalogue in use: ``--datasets``, ``$ADBENCH_DATASETS``, ``./datasets.toml``, or
    the one at the top of the adbench checkout. ``None`` means only the built-in synthetic set."""
    for candidate in (explicit, os.environ.get("ADBENCH_DATASETS")):
        if candidate:
            path = Path(candidate).expanduser()
            if path.is_dir():
                raise DatasetError(f"data set catalogue {path} is a folder; pass the datasets.toml file itself "
                                   f"(e.g. {path / 'datasets.toml'}) with --datasets or ADBENCH_DATASETS")
            if not path.is_file():
                raise DatasetError(f"data set catalogue {path} does not exist; pass an existing "
                                   f"datasets.toml with --datasets or ADBENCH_DATASETS")
            return path
    for path in (Path.cwd() / "datasets.toml", REPO_ROOT / "datasets.toml"):
        if path.is_file():
            return path
    return None


@dataclass
class DatasetSpec:
    """One ``[name]`` table of ``datasets.toml``."""

    name: str
    adapter: str
    root: str | None = None
    categories: list[str] | None = None
    image_size: int | None = None
    url: str | None = None
    sha256: str | None = None
    md5: str | None = None
    #: AU-PRO to these FPR limits as well, in every run on this data set (e.g. [0.01, 0.1])
    au_pro_limits: list[float] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None

    @property
    def root_path(self) -> Path | None:
        """The root with ``~`` and environment variables expanded; ``None`` when unset."""
        if not self.root:
            return None
        expanded = os.path.expanduser(os.path.expandvars(self.root))
        if "$" in expanded or not expanded.strip():  # a variable that is unset or empty
            return None
        return Path(expanded)


def _is_text(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _is_au_pro_limit(v: Any) -> bool:
    from .metrics.spec import check_au_pro_limit

    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        check_au_pro_limit(v)
    except ValueError:
        return False
    return True


#: key → (check, what the key must be), for one line naming the file, the key and the type
_SCHEMA: dict[str, tuple[Callable[[Any], bool], str]] = {
    "adapter": (_is_text, 'a string naming an adapter (see `adbench list adapters`), e.g. adapter = "mvtec_ad"'),
    "root": (_is_text, 'a string path, e.g. root = "/data/mvtec" or root = "${MVTEC_AD_ROOT}"'),
    "categories": (lambda v: isinstance(v, list) and len(v) > 0 and all(_is_text(c) for c in v),
                   'a non-empty list of strings, e.g. categories = ["bottle", "cable"] (omit the key for all)'),
    "image_size": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
                   "a positive integer, e.g. image_size = 128"),
    "url": (_is_text, 'a string URL, e.g. url = "https://…/archive.tar.xz"'),
    "sha256": (lambda v: isinstance(v, str) and len(v) == 64, "a string of 64 hex digits"),
    "md5": (lambda v: isinstance(v, str) and len(v) == 32, "a string of 32 hex digits"),
    "au_pro_limits": (lambda v: isinstance(v, list) and len(v) > 0 and all(_is_au_pro_limit(x) for x in v),
                      "a non-empty list of FPR limits in [0.001, 1] with at most 3 decimals, e.g. "
                      "au_pro_limits = [0.01, 0.1]"),
}


def _check_types(path: Path | None, name: str, table: dict[str, Any]) -> None:
    """Raise one line naming the file, the table, the key, the value and the expected type."""
    for key, (ok, expected) in _SCHEMA.items():
        if key in table and not ok(table[key]):
            raise DatasetError(f"{path}: [{name}] {key} = {table[key]!r} is invalid: it must be {expected}")


BUILTIN_SYNTHETIC = {"adapter": "synthetic", "categories": ["fabric", "wood", "metal", "pill"], "image_size": 128}
_KNOWN_KEYS = {"adapter", "root", "categories", "image_size", "url", "sha256", "md5", "au_pro_limits"}


def load_catalogue(path: Path | None = None) -> dict[str, DatasetSpec]:
    """Parse ``datasets.toml``; a syntax error names the file and line."""
    path = datasets_file(path)
    raw: dict[str, Any] = {"synthetic": dict(BUILTIN_SYNTHETIC)}
    if path is not None:
        try:
            raw.update(tomllib.loads(path.read_text()))
        except tomllib.TOMLDecodeError as exc:
            raise DatasetError(f"{path}: invalid TOML ({exc}); fix the file and retry") from exc
    specs = {}
    for name, table in raw.items():
        if not isinstance(table, dict) or "adapter" not in table:
            raise DatasetError(f"{path}: [{name}] needs an `adapter = \"...\"` key "
                               f"(one of the names in `adbench list adapters`)")
        _check_types(path, name, table)
        opts = {k: v for k, v in table.items() if k not in _KNOWN_KEYS}
        specs[name] = DatasetSpec(name=name, source=path, options=opts,
                                  **{k: v for k, v in table.items() if k in _KNOWN_KEYS})
    return specs


def dataset_spec(catalogue: dict[str, DatasetSpec], name: str) -> DatasetSpec:
    """The catalogue's entry for ``name``; an unknown name lists the configured ones."""
    if name not in catalogue:
        raise UnknownDataset(name, list(catalogue))
    return catalogue[name]
