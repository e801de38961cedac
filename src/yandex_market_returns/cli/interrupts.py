"""Ctrl-C while an outcome is being written waits for the line to end: no line is cut short, or written twice."""

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Deferral:
    """While ``held``, a Ctrl-C is noted and raised as ``KeyboardInterrupt`` when the hold ends."""

    def __init__(self) -> None:
        self._holding = False
        self._pending = False

    @contextlib.contextmanager
    def installed(self) -> Iterator["Deferral"]:
        if threading.current_thread() is not threading.main_thread():  # only there can a handler be set
            yield self
            return
        previous = signal.signal(signal.SIGINT, self._heard)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._pending:
            self._pending = False
            raise KeyboardInterrupt

    def _heard(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:
            self._pending = True
        else:
            raise KeyboardInterrupt
