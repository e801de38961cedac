"""What an operator watches while a batch runs: one line on a terminal, redrawn a few times a second."""

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import TextIO

from .watch import Watch

# How often the display is redrawn, in seconds.
TICK = 0.25


class Progress:
    """One line on stderr, redrawn a few times a second: returns sent, done, failed, in flight, the rate of
    sending, the time left to send and the store's remaining hourly requests. Lines written meanwhile go
    through ``paused``."""

    def __init__(self, stream: TextIO, total: int, watch: Watch, confirming: bool) -> None:
        self._stream = stream
        self._total = total
        self._watch = watch
        self._confirming = confirming
        self._done = self._failed = 0
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="yandex-market-returns-progress", daemon=True)
        self._thread.start()

    def note(self, succeeded: bool) -> None:
        with self._lock:
            if succeeded:
                self._done += 1
            else:
                self._failed += 1

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Clear the line for whatever is written meanwhile, and draw it again below."""
        with self._lock:
            self._write("\r\x1b[K")
            try:
                yield
            finally:
                if not self._stopped.is_set():
                    self._draw()

    def above(self) -> "_Above":
        """A stream for a log handler: each line it writes clears the display first."""
        return _Above(self)

    def stop(self) -> None:
        """Clear the line, once; lines written after it stay."""
        if self._stopped.is_set() and not self._thread.is_alive():
            return
        self._stopped.set()
        self._thread.join()
        with self._lock:
            self._write("\r\x1b[K")

    def line(self) -> str:
        sent = self._watch.sent
        elapsed = time.monotonic() - self._started
        rate = sent / elapsed if elapsed > 0 else 0.0
        parts = [
            f"{sent}/{self._total} sent",
            f"{self._done} {'cancelled' if self._confirming else 'started'}",
            f"{self._failed} failed",
            f"{self._watch.in_flight} in flight",
        ]
        if self._watch.retries:
            parts.append(f"{self._watch.retries} retried")
        if sent < self._total:
            parts.append(f"{rate:.1f}/s")
            if rate > 0:
                parts.append(f"~{_duration((self._total - sent) / rate)} left to send")
        elif self._confirming and self._done + self._failed < self._total:
            parts.append(f"{self._total - self._done - self._failed} awaiting their status")
        if self._watch.remaining is not None:
            parts.append(f"hourly requests left: {self._watch.remaining}")
        return " · ".join(parts)

    def _run(self) -> None:
        while not self._stopped.wait(TICK):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        self._write("\r\x1b[K" + self.line()[: _width(self._stream) - 1])

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # the terminal went away: the display is not worth an error
            self._stopped.set()


class _Above:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def write(self, text: str) -> int:
        with self._progress.paused():
            self._progress._write(text)
        return len(text)

    def flush(self) -> None:
        """Each write flushes."""


def _width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError):
        return 80


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"
