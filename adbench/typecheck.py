"""The one type checker behind every typed option: method configs (``MethodConfig``
annotations), executor options (``ExecutorOption.type``) and the result row's core fields
(``Row`` annotations). docs/architecture.md, "Typed options", says why annotations and this
checker rather than pydantic.

An annotation is a type (``int``, ``float``, ``str``, ``bool``, ``dict``), ``X | None``, a
``Literal[...]`` of allowed values, or a generic ``list[X]`` / ``tuple[X, ...]`` whose items are
checked too. An ``int`` never passes for a ``bool`` or the other way round; an ``int`` passes
for a ``float``.
"""

from __future__ import annotations

import types
import typing
from typing import Any


def describe(kind: Any) -> str:
    """What a value of ``kind`` must be, in words ("int", "one of 'a', 'b'", "list of int")."""
    origin = typing.get_origin(kind)
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(kind)))
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else describe(a) for a in typing.get_args(kind))
    if origin in (list, tuple):
        args = [a for a in typing.get_args(kind) if a is not Ellipsis]
        return f"{origin.__name__} of {describe(args[0])}" if args else origin.__name__
    return getattr(kind, "__name__", str(kind))


def fits(value: Any, kind: Any) -> bool:
    """Whether ``value`` is a value of the annotation ``kind``."""
    origin = typing.get_origin(kind)
    if kind is Any:
        return True
    if origin is typing.Literal:
        return any(value == c and type(value) is type(c) for c in typing.get_args(kind))
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, a) for a in typing.get_args(kind))
    if kind is type(None):
        return value is None
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        args = [a for a in typing.get_args(kind) if a is not Ellipsis]
        return not args or all(fits(v, args[0]) for v in value)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(kind, type):
        return isinstance(value, kind)
    return True  # an annotation this checker does not read (a Protocol, a TypeVar): its owner checks it


def check(owner: str, key: str, value: Any, kind: Any) -> None:
    """Raise ``ValueError("<owner>: <key> = <value> must be <what>")`` unless ``value`` fits."""
    if not fits(value, kind):
        raise ValueError(f"{owner}: {key} = {value!r} must be {describe(kind)}")
