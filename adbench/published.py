"""The numbers a method's publication reports, declared by its plugin in one TOML file
(``Method.published_file``), so that a report can set them beside a run's own
(docs/architecture.md, "Published numbers").

One ``[[published]]`` table per (method, data set, metric)::

    [[published]]
    method = <the method's name>
    dataset = <the adapter's name, e.g. mvtec_ad>
    metric = <a registered metric, e.g. pixel_auroc>
    source = <paper and table, or README>
    tolerance = 0.05              # |run − published| above this is flagged
    values = { bottle = 0.949, wood = 0.781, mean = 0.807 }   # category → value; "mean": the average
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: the key of a data set's average among a table's values
MEAN = "mean"


@dataclass(frozen=True)
class Published:
    """One metric a publication reports for one method on one data set, per category."""

    method: str
    dataset: str
    metric: str
    source: str
    tolerance: float
    values: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class PublishedFileError(ValueError):
    """A malformed published-numbers file; the message names the file, the entry and the fix."""


def load_published(path: Path) -> list[Published]:
    """Every entry of one plugin's file, checked: a bad entry is an error naming the file."""
    try:
        raw = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PublishedFileError(f"{path}: cannot read the published numbers ({exc})") from exc
    out = []
    for i, e in enumerate(raw.get("published", [])):
        need = ("method", "dataset", "metric", "source", "tolerance", "values")
        missing = [k for k in need if k not in e]
        if missing:
            raise PublishedFileError(f"{path}: [[published]] entry {i + 1} lacks {', '.join(missing)}")
        values = e["values"]
        ok = isinstance(values, dict) and values and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in values.values())
        if not ok or not isinstance(e["tolerance"], (int, float)) or e["tolerance"] < 0:
            raise PublishedFileError(f"{path}: [[published]] entry {i + 1} ({e['method']}, {e['metric']}): values "
                                     f"must be a table of category = number in [0, 1] and tolerance a number ≥ 0")
        out.append(Published(str(e["method"]), str(e["dataset"]), str(e["metric"]), str(e["source"]),
                             float(e["tolerance"]), {str(k): float(v) for k, v in values.items()}))
    return out


def published_for(method_cls: Any, dataset: str) -> list[dict[str, Any]]:
    """What ``method_cls``'s publication reports on the data set whose adapter is ``dataset``,
    as plain dicts for a result row; [] when its plugin declares nothing."""
    path = getattr(method_cls, "published_file", None)
    if not path:
        return []
    return [p.as_dict() for p in load_published(Path(path))
            if p.method == method_cls.name and p.dataset == dataset]
