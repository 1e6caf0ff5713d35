"""Tell a real Ctrl-C (or SIGTERM) from a ``KeyboardInterrupt`` (or ``SystemExit``) raised by
plugin code.

A run must stop on Ctrl-C, and on the SIGTERM that Slurm, ``timeout`` and ``kill`` send (the
finished rows stay; the next run resumes), but a plugin that calls ``sys.exit()`` or raises
``KeyboardInterrupt`` itself must only fail its own cell. :func:`install` routes both signals
through one handler that remembers the signal and raises ``KeyboardInterrupt``; the cell runner
re-raises only then, and the CLI exits with 128 + the signal's number, after saying so.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

_received = threading.Event()
_signal: list[int] = []
#: the signals that stop a run the way Ctrl-C does
STOPPING = (signal.SIGINT, signal.SIGTERM)


def _on_signal(signum: int, frame: Any) -> None:
    _signal[:] = [signum]
    _received.set()
    raise KeyboardInterrupt


def install() -> None:
    """Route SIGINT and SIGTERM through :func:`_on_signal` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is threading.main_thread():
        for sig in STOPPING:
            signal.signal(sig, _on_signal)


def received() -> bool:
    """True once a real SIGINT or SIGTERM reached this process since :func:`install`."""
    return _received.is_set()


def received_signal() -> int:
    """The number of the stopping signal received (SIGINT when none was recorded)."""
    return _signal[0] if _signal else int(signal.SIGINT)
