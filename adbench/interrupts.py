"""Tell a real Ctrl-C from a ``KeyboardInterrupt`` (or ``SystemExit``) raised by plugin code.

A run must stop on Ctrl-C (the finished rows stay; the next run resumes), but a plugin
that calls ``sys.exit()`` or raises ``KeyboardInterrupt`` itself must only fail its own
cell. :func:`install` wraps the SIGINT handler so that a real signal is remembered;
the cell runner re-raises only then.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

_received = threading.Event()


def _on_sigint(signum: int, frame: Any) -> None:
    _received.set()
    raise KeyboardInterrupt


def install() -> None:
    """Route SIGINT through :func:`_on_sigint` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)


def received() -> bool:
    """True once a real SIGINT reached this process since :func:`install`."""
    return _received.is_set()
