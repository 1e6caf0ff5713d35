"""Every hookspec is documented under its exact signature (datasette's pattern)."""

from __future__ import annotations

import inspect
import re

import pytest

from adbench import hookspecs
from conftest import REPO

DOC = (REPO / "docs" / "plugin_hooks.md").read_text()
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("adbench_")]


def test_every_hookspec_is_found():
    assert set(HOOKS) == {"adbench_register_methods", "adbench_register_datasets", "adbench_register_metrics",
                          "adbench_register_executors", "adbench_register_reporters", "adbench_register_views",
                          "adbench_register_figures", "adbench_cell_finished"}


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented_with_its_signature(name: str):
    params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    heading = f"## {name}({params})"
    assert heading in DOC, f"docs/plugin_hooks.md lacks the heading {heading!r}"


def test_no_documented_hook_is_stale():
    documented = set(re.findall(r"^## (adbench_\w+)\(", DOC, flags=re.M))
    assert documented == set(HOOKS)
