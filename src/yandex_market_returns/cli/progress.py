"""What an operator watches while a batch runs: the requests on the wire, seen from the client's transport, and
a one-line display on a terminal."""

import collections
import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from typing import TextIO

import httpx

from ..rate_limit import RateLimit

# How often the display is redrawn, in seconds.
TICK = 0.25


class Watch(httpx.BaseTransport):
    """Counts the cancelReturn requests in flight and sent (a return sent more than once was retried), and
    keeps the store's remaining hourly requests from the latest answer."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self._sent: collections.Counter[object] = collections.Counter()
        self.in_flight = 0
        self.remaining: int | None = None

    @property
    def sent(self) -> int:
        """Returns sent at least once."""
        with self._lock:
            return len(self._sent)

    @property
    def retries(self) -> int:
        with self._lock:
            return sum(self._sent.values()) - len(self._sent)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/returns/cancel"):
            return self._transport.handle_request(request)
        with self._lock:
            self._sent[_return_id(request)] += 1
            self.in_flight += 1
        try:
            response = self._transport.handle_request(request)
        finally:
            with self._lock:
                self.in_flight -= 1
        remaining = RateLimit.from_headers(response.headers).remaining
        if remaining is not None:
            self.remaining = remaining
        return response

    def close(self) -> None:
        self._transport.close()


def _return_id(request: httpx.Request) -> object:
    try:
        return json.loads(request.content)["returnId"]
    except (ValueError, KeyError, TypeError):
        return request.content  # the body itself tells one return's requests from another's


class Progress:
    """One line on stderr, redrawn a few times a second: returns sent, done, failed, in flight, the rate of
    sending, the time left to send and the store's remaining hourly requests. Lines written meanwhile go
    through ``paused``."""

    def __init__(self, stream: TextIO, total: int, watch: Watch, done_word: str) -> None:
        self._stream = stream
        self._total = total
        self._watch = watch
        self._done_word = done_word
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
        """Clear the line for whatever is written meanwhile; the next tick draws it again."""
        with self._lock:
            self._write("\r\x1b[K")
            yield

    def above(self) -> "_Above":
        """A stream for a log handler: each line it writes clears the display first."""
        return _Above(self)

    def stop(self) -> None:
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
            f"{self._done} {self._done_word}",
            f"{self._failed} failed",
            f"{self._watch.in_flight} in flight",
        ]
        if self._watch.retries:
            parts.append(f"{self._watch.retries} retried")
        if sent < self._total:
            parts.append(f"{rate:.1f}/s")
            if rate > 0:
                parts.append(f"~{_duration((self._total - sent) / rate)} left to send")
        elif self._done + self._failed < self._total:
            parts.append(f"{self._total - self._done - self._failed} awaiting their status")
        if self._watch.remaining is not None:
            parts.append(f"hourly requests left: {self._watch.remaining}")
        return " · ".join(parts)

    def _run(self) -> None:
        while not self._stopped.wait(TICK):
            with self._lock:
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
