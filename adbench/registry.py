"""Name → factory registries, filled from the plugin hooks (the timm-style method registry)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

from .plugins import call_per_plugin, plugin_distribution

T = TypeVar("T")


class DuplicateNameError(ValueError):
    """Two plugins registered the same name."""


class UnknownNameError(KeyError):
    """A name nobody registered; the message lists what is available."""

    def __str__(self) -> str:  # KeyError quotes its message; we want plain text
        return str(self.args[0])


@dataclass
class Entry(Generic[T]):
    name: str
    obj: T
    plugin: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def distribution(self) -> str | None:
        return plugin_distribution(self.plugin)[0]

    @property
    def version(self) -> str | None:
        return plugin_distribution(self.plugin)[1]


class Registry(Generic[T]):
    """Entries of one kind (methods, datasets, …) keyed by unique name."""

    def __init__(self, kind: str, listing: str):
        self.kind = kind
        self.listing = listing
        self._entries: dict[str, Entry[T]] = {}

    def add(self, name: str, obj: T, plugin: str, **options: Any) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"plugin {plugin!r} registered a {self.kind} with an empty name")
        if name in self._entries:
            first = self._entries[name].plugin
            raise DuplicateNameError(
                f"{self.kind} name {name!r} is registered twice: by plugin {first!r} and by "
                f"plugin {plugin!r}. Uninstall one of them or limit loading with "
                f"ADBENCH_LOAD_PLUGINS."
            )
        self._entries[name] = Entry(name, obj, plugin, dict(options))

    def get(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "(none)"
            parts = [p.strip() for p in name.split(",")] if isinstance(name, str) else []
            hint = (f" Names are separated by spaces, not commas: {' '.join(parts)}."
                    if len(parts) > 1 and all(p in self._entries for p in parts) else "")
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; registered: {known}. "
                f"See `adbench list {self.listing}`.{hint}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def names(self) -> list[str]:
        return sorted(self._entries)

    def in_order(self) -> list[Entry[T]]:
        """Entries in registration order (the core plugin first): the order of table columns."""
        return list(self._entries.values())


#: what a ``register(...)`` call becomes: (name, registered object, options)
Registration = Callable[[tuple[Any, ...], dict[str, Any], str], tuple[str, Any, dict[str, Any]]]


def _named(args: tuple[Any, ...], options: dict[str, Any], plugin: str) -> tuple[str, Any, dict[str, Any]]:
    """``register(name, obj, **options)``."""
    name, obj = args
    return name, obj, options


def _self_named(args: tuple[Any, ...], options: dict[str, Any], plugin: str) -> tuple[str, Any, dict[str, Any]]:
    """``register(obj)`` where ``obj.name`` is the name (methods)."""
    (obj,) = args
    name = getattr(obj, "name", None)
    if not name:
        raise ValueError(f"plugin {plugin!r} registered {obj!r} without a `name`")
    return name, obj, options


def _metric_spec(args: tuple[Any, ...], options: dict[str, Any], plugin: str) -> tuple[str, Any, dict[str, Any]]:
    """``register(MetricSpec(...))``, or the older ``register(name, fn, level=...)``."""
    from .metrics.spec import MetricSpec, legacy_spec

    if len(args) == 1 and isinstance(args[0], MetricSpec):
        spec = args[0]
    elif len(args) == 2 and isinstance(args[0], str):
        spec = legacy_spec(args[0], args[1], options.pop("level", "image"), plugin)
    else:
        raise ValueError(f"plugin {plugin!r}: register a MetricSpec(name, title, level, higher_is_better, fn, "
                         f"definition), got {args!r}")
    return spec.name, spec, {"level": spec.level}


def _collect(hook: str, kind: str, registration: Registration) -> Registry[Any]:
    listing = hook.rsplit("_", 1)[-1]
    # adapters register through adbench_register_datasets but are listed as `adbench list adapters`
    reg: Registry[Any] = Registry(kind, listing={"datasets": "adapters"}.get(listing, listing))

    def register(*args: Any, plugin: str, **options: Any) -> None:
        name, obj, opts = registration(args, options, plugin)
        reg.add(name, obj, plugin, **opts)

    call_per_plugin(hook, register=register)
    return reg


@lru_cache(maxsize=None)
def methods() -> Registry[Any]:
    """Registered method classes (subclasses of :class:`adbench.Method`)."""
    return _collect("adbench_register_methods", "method", _self_named)


@lru_cache(maxsize=None)
def datasets() -> Registry[Any]:
    return _collect("adbench_register_datasets", "dataset adapter", _named)


@lru_cache(maxsize=None)
def metric_entries() -> Registry[Any]:
    """Registered :class:`~adbench.metrics.MetricSpec` entries, by name, with the plugin that
    registered each (``adbench list metrics``); everything else reads :func:`metrics`."""
    return _collect("adbench_register_metrics", "metric", _metric_spec)


@lru_cache(maxsize=None)
def _metric_list() -> tuple[Any, ...]:
    return tuple(e.obj for e in metric_entries().in_order())


#: metrics a run asked for beyond the registered ones (AU-PRO at another limit), while a cell is
#: scored or a report is built (:func:`extra_metrics`)
_EXTRA_METRICS: list[Any] = []


def metrics() -> list[Any]:
    """Every registered :class:`~adbench.metrics.MetricSpec`, in registration order, then those
    of the surrounding :func:`extra_metrics` block: the one accessor that evaluation, rows,
    tables, figures and the HTML iterate."""
    registered = list(_metric_list())
    names = {s.name for s in registered}
    return registered + [s for s in _EXTRA_METRICS if s.name not in names]


@contextmanager
def extra_metrics(specs: Iterable[Any]) -> Iterator[None]:
    """Within this block, :func:`metrics` also holds ``specs``: the metrics one cell asked for
    (``Cell.au_pro_limits``) while it is scored, or those its rows hold while a report is built."""
    added = [s for s in specs if s.name not in {e.name for e in _EXTRA_METRICS}]
    _EXTRA_METRICS.extend(added)
    try:
        yield
    finally:
        for s in added:
            _EXTRA_METRICS.remove(s)


@lru_cache(maxsize=None)
def executors() -> Registry[Any]:
    return _collect("adbench_register_executors", "executor", _named)


@lru_cache(maxsize=None)
def reporters() -> Registry[Any]:
    return _collect("adbench_register_reporters", "reporter", _named)


@lru_cache(maxsize=None)
def views() -> Registry[Any]:
    """Report views: ``fn(rows_df) -> list[Table]``, in registration order."""
    return _collect("adbench_register_views", "view", _named)


@lru_cache(maxsize=None)
def figures() -> Registry[Any]:
    """Report figures: ``fn(ok_rows_df, style, out_dir) -> list[Path]`` with a ``caption`` option."""
    return _collect("adbench_register_figures", "figure", _named)


def adapter_for(spec: Any) -> Any:
    """The data set adapter configured by a ``datasets.toml`` entry (a :class:`~adbench.config.DatasetSpec`)."""
    return datasets().get(spec.adapter).obj(spec)


def reset() -> None:
    """Forget the collected registries (tests that register plugins at run time use it)."""
    for fn in (methods, datasets, metric_entries, _metric_list, executors, reporters, views, figures):
        fn.cache_clear()
