"""The cancelReturn requests a batch sends, seen from its transport: how many are in flight, how many returns
were sent and retried, and the store's remaining hourly requests."""

import collections
import json
import threading

import httpx

from ..rate_limit import RateLimit


class Watch(httpx.BaseTransport):
    """Counts what it passes on; the store's remaining hourly requests are the latest answer's (of a 200, 400
    or 420: the Market's own)."""

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
        # The Market's own answers count against the store; an error page of a server or a gateway may not.
        remaining = RateLimit.from_headers(response.headers).remaining
        if remaining is not None and (response.is_success or response.status_code in (400, 420)):
            self.remaining = remaining
        return response

    def close(self) -> None:
        self._transport.close()


def _return_id(request: httpx.Request) -> object:
    try:
        return json.loads(request.content)["returnId"]
    except (ValueError, KeyError, TypeError):
        return request.content  # the body itself tells one return's requests from another's
