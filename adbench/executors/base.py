"""The executor contract: what an executor receives (cells and a :class:`RunSpec`), the
options it declares, and the one function it ships to wherever a cell runs (:func:`run_one`).

Built-in executors (``local``, ``submitit``) subclass :class:`Executor` exactly as a
third-party plugin does (docs/plugin_hooks.md). An executor declares its options as
:class:`ExecutorOption` class attributes; ``adbench run`` takes them from
``--executor-opt KEY=VALUE``, from ``[executor.<name>]`` of ``--executor-config FILE``, and
from a dedicated flag when the option names one (``--partition``). Why a class attribute and
not a hook: docs/architecture.md, "Executors".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

from ..config import parse_text
from ..typecheck import describe, fits
from ..protocol.cells import Cell, RunSpec

__all__ = ["Executor", "ExecutorOption", "ExecutorOptionError", "RunSpec", "failure_row", "is_failure", "run_one"]


class ExecutorOptionError(ValueError):
    """An executor option that is unknown or has a value of the wrong type; the message names both."""

    def __init__(self, message: str, option: str | None = None):
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class ExecutorOption:
    """One option of an executor: its name, type (int, float, str or bool), default and help.

    ``flag`` (e.g. ``"--partition"``) also adds that flag to ``adbench run``.
    """

    name: str
    type: type
    default: Any
    help: str
    flag: str | None = None
    #: the smallest allowed value of a number
    minimum: float | None = None
    #: a one-letter alias of ``flag`` (``-j``)
    short: str | None = None

    def coerce(self, value: Any, executor: str) -> Any:
        """The value as this option's type (strings from the command line are converted), checked."""
        value = self._typed(value, executor)
        if self.minimum is not None and value is not None and value < self.minimum:
            raise ExecutorOptionError(f"executor {executor!r}: option {self.name} = {value!r} must be at least "
                                      f"{self.minimum:g}", self.name)
        return value

    def _typed(self, value: Any, executor: str) -> Any:
        """Strings from the command line are parsed; then the one checker (:mod:`adbench.typecheck`)."""
        if isinstance(value, str) and self.type in (bool, int, float):
            try:
                value = parse_text(value, self.type)
            except ValueError:
                pass
        if value is not None and not fits(value, self.type):
            raise ExecutorOptionError(f"executor {executor!r}: option {self.name} = {value!r} must be "
                                      f"{describe(self.type)}", self.name)
        return float(value) if self.type is float and value is not None else value


class Executor:
    """Base class of every executor: subclasses set ``name`` and ``options`` and implement ``run``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options: ClassVar[tuple[ExecutorOption, ...]] = ()

    def __init__(self, **options: Any):
        declared = {o.name: o for o in self.options}
        unknown = sorted(set(options) - set(declared))
        if unknown:
            known = ", ".join(declared) or "none"
            raise ExecutorOptionError(f"executor {self.name!r} has no option {', '.join(unknown)}; its options: {known}")
        #: every declared option, given or default, with its declared type
        self.config: dict[str, Any] = {
            name: opt.coerce(options[name], self.name) if name in options else opt.default
            for name, opt in declared.items()}

    @classmethod
    def from_sources(cls, config_file: Mapping[str, Any] | None = None, flags: Mapping[str, Any] | None = None,
                     cli: Mapping[str, Any] | None = None) -> "Executor":
        """Build from, in rising precedence: the config file's ``[executor.<name>]`` table, the
        dedicated flags, and ``--executor-opt`` values."""
        merged: dict[str, Any] = {}
        for source in (config_file, flags, cli):
            merged.update({k: v for k, v in (source or {}).items() if v is not None})
        return cls(**merged)

    def run(self, cells: Sequence[Cell], spec: RunSpec) -> list[dict[str, Any]]:
        """Run every cell (each through :func:`run_one`) and return their rows."""
        raise NotImplementedError


def is_failure(row: dict[str, Any]) -> bool:
    """A row to report as failed: neither a result nor a cell skipped because it ran elsewhere."""
    from ..protocol.task import SKIPPED

    return row.get("status") not in ("ok", SKIPPED)


def run_one(cell: Cell, spec: RunSpec) -> dict[str, Any]:
    """Run one cell (:meth:`CellTask.run <adbench.protocol.task.CellTask.run>`: its lock, skip
    when done, its row); the function every executor ships to where a cell runs."""
    from ..protocol.task import CellTask

    return CellTask(cell, spec).run()


def failure_row(cell: Cell, spec: RunSpec, reason: str) -> dict[str, Any]:
    """Write and return the error row of a cell whose process was lost (killed, timed out)."""
    from ..protocol.task import CellTask

    return CellTask(cell, spec).fail(reason)
