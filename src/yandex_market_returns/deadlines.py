"""The whole of a request within its timeout.

httpx's timeouts bound each phase and each read, so a server that sends its answer a byte at a time never
trips them. The async client bounds the whole request with a timer (``request_deadlines``); the sync client cannot
interrupt a blocking read, so this transport ends the answer's body once the request's time is up (its
headers are still bounded by the read timeout alone, each read at a time).
"""

import time
from collections.abc import Iterator
from typing import cast

import httpx


class BoundedTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self._seconds
        response = self._inner.handle_request(request)
        if not isinstance(response.stream, httpx.ByteStream):  # a body already in memory has nothing to bound
            response.stream = _BoundedStream(response, deadline, request)
        return response

    def close(self) -> None:
        self._inner.close()


class _BoundedStream(httpx.SyncByteStream):
    def __init__(self, response: httpx.Response, deadline: float, request: httpx.Request) -> None:
        self._stream = cast(httpx.SyncByteStream, response.stream)  # a sync transport's
        self._deadline = deadline
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            if time.monotonic() > self._deadline:
                raise httpx.ReadTimeout("the answer did not complete within the timeout", request=self._request)
            yield chunk

    def close(self) -> None:
        self._stream.close()
