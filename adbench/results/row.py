"""The result row: one versioned, validated record per cell (docs/results.md).

A row has typed core fields (the cell, its status), a ``metrics`` block (one value per
registered :class:`~adbench.metrics.MetricSpec`), a ``costs`` block (keys owned by
:mod:`adbench.costs.fields`) and free ``extra`` (provenance, config, training, curves). On
disk it is JSON with ``"schema": ROW_SCHEMA``; rows written before the schema existed (flat
JSON, schema 1) are read and sorted into the blocks. Reports use :meth:`Row.flat`, one
column per key.
"""

from __future__ import annotations

import functools
import math
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Literal

from ..costs.fields import ROW_COST_KEYS
from ..typecheck import describe, fits

ROW_SCHEMA = 2


#: how to mend a bad row file: every message about one ends with it, once
FIX = "rerun the same `adbench run` command to compute that cell again, or delete the file"


class BadRow(ValueError):
    """A row file that cannot be used; the message names the file, what is wrong and the fix."""


#: what a flat row without these keys meant before they were recorded
_CORE_DEFAULTS: dict[str, Any] = {"track": "unsupervised", "seed": 0, "profile": "quick", "overrides": {}}


@dataclass
class Row:
    """One cell's result. Build it with :meth:`from_flat`; store it with :meth:`to_json`."""

    cell_key: str
    method: str
    dataset: str
    category: str
    track: str
    seed: int
    profile: str
    status: Literal["ok", "error", "running"]
    error: str | None = None
    traceback: str | None = None
    k_anomalies: int | None = None
    anomaly_ratio: float | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)
    costs: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    schema: int = ROW_SCHEMA

    @classmethod
    def from_flat(cls, flat: dict[str, Any], metric_names: Iterable[str] | None = None) -> "Row":
        """Sort a flat dict (what the runner assembles, or a schema-1 file) into the blocks:
        core fields by name, registered metrics, cost keys, and the rest as ``extra``."""
        if metric_names is None:
            from .. import registry  # the one metric accessor; lazy, as the registry loads plugins

            metric_names = [spec.name for spec in registry.metrics()]
        names = set(metric_names)
        typed = _core()
        core = {**_CORE_DEFAULTS, **{k: flat[k] for k in typed if k in flat}}
        rest = {k: v for k, v in flat.items() if k not in typed and k != "schema"}
        return cls(**core,
                   metrics={k: v for k, v in rest.items() if k in names},
                   costs={k: v for k, v in rest.items() if k in ROW_COST_KEYS},
                   extra={k: v for k, v in rest.items() if k not in names and k not in ROW_COST_KEYS})

    @classmethod
    def from_json(cls, data: Any, source: Path | str = "<row>") -> "Row":
        """Validate and build; every problem is a :class:`BadRow` naming ``source`` and the fix."""
        fix = FIX
        if not isinstance(data, dict):
            raise BadRow(f"result row {source} holds a JSON {type(data).__name__}, not an object; {fix}")
        schema = data.get("schema", 1)
        if not isinstance(schema, int) or schema < 1:
            raise BadRow(f"result row {source}: schema {schema!r} is not a version number; {fix}")
        if schema > ROW_SCHEMA:
            raise BadRow(f"result row {source} has schema {schema}, newer than this adbench reads "
                         f"({ROW_SCHEMA}); upgrade adbench to read it")
        for key in ("cell_key", "method", "dataset", "category", "status"):
            if key not in data:
                raise BadRow(f"result row {source} has no {key}; {fix}")
        for key, kind in _core().items():
            if key in data and not fits(data[key], kind):
                raise BadRow(f"result row {source}: {key} = {data[key]!r} must be {describe(kind)}; {fix}")
        if schema == 1:  # flat rows from before the schema
            return cls.from_flat(data)
        for block in ("metrics", "costs", "extra"):
            if not isinstance(data.get(block, {}), dict):
                raise BadRow(f"result row {source}: {block} must be an object; {fix}")
        bad = [k for k, v in data.get("metrics", {}).items()
               if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)))]
        if bad:
            raise BadRow(f"result row {source}: metric {bad[0]} = {data['metrics'][bad[0]]!r} is not a number; {fix}")
        # adbench stores an undefined value as null, never NaN or infinity: such a value was put there by hand
        bad = [k for k, v in data.get("metrics", {}).items() if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            raise BadRow(f"result row {source}: metric {bad[0]} = {data['metrics'][bad[0]]!r} is not a finite number "
                         f"(adbench stores an undefined value as null); {fix}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadRow(f"result row {source}: unknown top-level key(s) {', '.join(unknown)} for schema "
                         f"{schema}; {fix}")
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def flat(self) -> dict[str, Any]:
        """One key per value (what the reports' DataFrames use); blocks never overwrite core fields."""
        core = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("metrics", "costs", "extra", "schema")}
        return {**self.extra, **self.costs, **self.metrics, **core}



#: what a row's ``status`` may be: the choices of :attr:`Row.status`
STATUSES: tuple[str, ...] = typing.get_args(typing.get_type_hints(Row)["status"])


@functools.lru_cache(maxsize=None)
def _core() -> dict[str, Any]:
    """The core fields and their annotations: the schema the one checker validates."""
    return {k: v for k, v in typing.get_type_hints(Row).items() if k not in ("metrics", "costs", "extra", "schema")}
