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
    """One line on stderr: returns sent, done, not done, in flight, the rate of sending, the time left to send
    and the store's remaining hourly requests. Whatever else is written to the terminal goes above it, through
    ``paused`` or ``write``."""

    def __init__(self, stream: TextIO, total: int, watch: Watch, confirming: bool) -> None:
        self._stream = stream
        self._total = total
        self._watch = watch
        self._confirming = confirming
        self._done = self._not_done = 0
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="yandex-market-returns-progress", daemon=True)
        self._thread.start()

    def note(self, done: bool) -> None:
        with self._lock:
            if done:
                self._done += 1
            else:
                self._not_done += 1

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Clear the line for whatever is written meanwhile, and draw it again below."""
        with self._lock:
            self._emit("\r\x1b[K")
            try:
                yield
            finally:
                if not self._stopped.is_set():
                    self._draw()

    def write(self, text: str) -> int:
        """Write ``text`` above the line (a log handler's stream)."""
        with self.paused():
            self._emit(text)
        return len(text)

    def flush(self) -> None:
        """Each write flushes."""

    def stop(self) -> None:
        """Clear the line, once; lines written after it stay."""
        if self._stopped.is_set() and not self._thread.is_alive():
            return
        self._stopped.set()
        self._thread.join()
        with self._lock:
            self._emit("\r\x1b[K")

    def line(self) -> str:
        sent = self._watch.sent
        elapsed = time.monotonic() - self._started
        rate = sent / elapsed if elapsed > 0 else 0.0
        word = "cancelled" if self._confirming else "started"
        parts = [
            f"{sent}/{self._total} sent",
            f"{self._done} {word}",
            f"{self._not_done} not {word}",
            f"{self._watch.in_flight} in flight",
        ]
        if self._watch.retries:
            parts.append(f"{self._watch.retries} retried")
        to_send = self._total - sent
        if to_send:
            parts.append(f"{rate:.1f}/s")
            if self._watch.remaining is not None and self._watch.remaining < to_send:
                parts.append(f"the hourly limit runs out before the {to_send} left are sent")
            elif rate > 0:
                parts.append(f"~{_duration(to_send / rate)} left to send")
        elif self._confirming and self._done + self._not_done < self._total:
            parts.append(f"{self._total - self._done - self._not_done} awaiting their status")
        if self._watch.remaining is not None:
            parts.append(f"hourly requests left: {self._watch.remaining}")
        return " · ".join(parts)

    def _run(self) -> None:
        while not self._stopped.wait(TICK):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        self._emit("\r\x1b[K" + self.line()[: _width(self._stream) - 1])

    def _emit(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # the terminal went away: the display is not worth an error
            self._stopped.set()


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
