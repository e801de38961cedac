"""Ctrl-C, SIGTERM and SIGHUP stop a batch the same way, and wait for a line being written to end: no line is
cut short, or written twice."""

import contextlib
import signal
from collections.abc import Callable, Iterator
from types import FrameType

# What stops the command as Ctrl-C does: a terminal closed (SIGHUP), `timeout`, systemd or a CI job (SIGTERM).
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

INTERRUPTED = 128 + signal.SIGINT


class StopSignalError(KeyboardInterrupt):
    """SIGTERM or SIGHUP: a stop like Ctrl-C, under its own name (a KeyboardInterrupt, so that the batch treats
    it as one)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_status(stop: KeyboardInterrupt) -> int:
    """128 and the signal's number, as a shell reports a process the signal ended: 130 for Ctrl-C."""
    return 128 + stop.signum if isinstance(stop, StopSignalError) else INTERRUPTED


def name(stop: KeyboardInterrupt) -> str:
    return str(stop.args[0]) if isinstance(stop, StopSignalError) else "Ctrl-C"


class Deferral:
    """While ``held``, a stop signal is noted and raised when the hold ends. ``announce`` is told of the first
    stop as it is raised: the batch may then wait a while for the requests in flight."""

    def __init__(self, announce: Callable[[KeyboardInterrupt], None]) -> None:
        self._announce = announce
        self._holding = False
        self._pending: KeyboardInterrupt | None = None
        self._stops = 0
        self._ignoring = False

    @contextlib.contextmanager
    def installed(self) -> Iterator["Deferral"]:
        """The handlers, for the time of the block (the main thread's: the only one that can set them); once
        ``ignore`` is called, the signals stay ignored until the process ends."""
        # A signal ignored when the command started (``nohup`` ignores SIGHUP) stays ignored.
        wanted = [signum for signum in SIGNALS if signal.getsignal(signum) is not signal.SIG_IGN]
        previous = {signum: signal.signal(signum, self._heard) for signum in wanted}
        try:
            yield self
        finally:
            if not self._ignoring:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)

    def ignore(self) -> None:
        """From now on: the batch has stopped, and its report must be written whole."""
        self._ignoring = True
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_IGN)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._raise(pending)

    def _heard(self, signum: int, frame: FrameType | None) -> None:
        stop = KeyboardInterrupt() if signum == signal.SIGINT else StopSignalError(signum)
        if not self._holding:
            self._raise(stop)
        self._pending = self._pending or stop

    def _raise(self, stop: KeyboardInterrupt) -> None:
        self._stops += 1
        if self._stops == 1:
            self._announce(stop)
        raise stop
