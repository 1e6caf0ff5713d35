"""The plugin manager: loads entry points of the ``adbench`` group and the core plugins.

Environment:
- ``ADBENCH_LOAD_PLUGINS``: comma-separated entry-point or distribution names; when set,
  only those entry points load (empty string: none). Core plugins always load.
- ``ADBENCH_TRACE_PLUGINS=1``: print every hook call to stderr.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .io import dist_version

ENTRY_POINT_GROUP = "adbench"
CORE_PLUGINS = ("adbench.core_plugin",)


@dataclass
class PluginInfo:
    """What ``adbench list plugins`` shows for one loaded plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)
    error: str | None = None


pm = pluggy.PluginManager("adbench")
pm.add_hookspecs(hookspecs)
_load_errors: list[PluginInfo] = []
_distributions: dict[str, tuple[str | None, str | None]] = {}
_loaded = False


def _wanted(ep: md.EntryPoint, allow: set[str] | None) -> bool:
    if allow is None:
        return True
    dist = ep.dist.name if ep.dist is not None else None
    return ep.name in allow or (dist is not None and dist in allow)


def load_plugins() -> pluggy.PluginManager:
    """Load core and entry-point plugins once; a plugin that fails to import only warns."""
    global _loaded
    if _loaded:
        return pm
    _loaded = True
    for mod_name in CORE_PLUGINS:
        pm.register(importlib.import_module(mod_name), name=mod_name)
    env = os.environ.get("ADBENCH_LOAD_PLUGINS")
    allow = None if env is None else {s.strip() for s in env.split(",") if s.strip()}
    for ep in md.entry_points(group=ENTRY_POINT_GROUP):
        if not _wanted(ep, allow) or pm.get_plugin(ep.name) is not None:
            continue
        dist = ep.dist.name if ep.dist is not None else None
        version = ep.dist.version if ep.dist is not None else None
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken third-party plugin must not kill the CLI
            msg = f"{type(exc).__name__}: {exc}"
            warnings.warn(
                f"adbench: plugin {ep.name!r} ({dist}) failed to import and is skipped: {msg}",
                stacklevel=2,
            )
            _load_errors.append(PluginInfo(ep.name, dist, version, error=msg))
            continue
        pm.register(plugin, name=ep.name)
        _distributions[ep.name] = (dist, version)
    pm.check_pending()
    if os.environ.get("ADBENCH_TRACE_PLUGINS") == "1":
        pm.trace.root.setwriter(lambda s: sys.stderr.write(s))
        pm.enable_tracing()
    return pm


def plugin_distribution(plugin_name: str) -> tuple[str | None, str | None]:
    """(distribution, version) that provided a plugin, or the adbench core's for core plugins."""
    if plugin_name in _distributions:
        return _distributions[plugin_name]
    if plugin_name in CORE_PLUGINS:
        return "adbench", dist_version("adbench")
    return None, None


def list_plugins() -> list[PluginInfo]:
    """Every loaded plugin with its distribution and hooks, plus those that failed to load."""
    load_plugins()
    infos = []
    for name, plugin in pm.list_name_plugin():
        dist, version = plugin_distribution(name)
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        infos.append(PluginInfo(name, dist, version, hooks))
    return infos + list(_load_errors)


def call_per_plugin(hook_name: str, **kwargs: Any) -> None:
    """Call a registration hook plugin by plugin, passing ``register`` bound to that plugin.

    ``kwargs['register']`` must accept a ``plugin=`` keyword; binding it per plugin is what
    lets a duplicate-name error name both plugins.
    """
    load_plugins()
    register = kwargs.pop("register")
    caller = getattr(pm.hook, hook_name)
    for impl in caller.get_hookimpls():
        others = [p for _, p in pm.list_name_plugin() if p is not impl.plugin]
        sub = pm.subset_hook_caller(hook_name, remove_plugins=others)

        def bound(*args: Any, _plugin: str = impl.plugin_name, **kw: Any) -> None:
            register(*args, plugin=_plugin, **kw)

        sub(register=bound, **kwargs)
