"""The key, taken out of everything a server may echo it in before any of it reaches an error.

A hostile or careless server can put the key in an error message, a header or a body. Whatever an error
of ours keeps (message, ``errors``, ``response``, the exception chain) goes through here first, so the
key shows in no ``str()``, pickle or ``logging.exception`` output.
"""

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import httpx

from yandex_market_returns_client import errors as generated_errors
from yandex_market_returns_client.models import ApiErrorDTO
from yandex_market_returns_client.types import UNSET, Response

# What stands for the key wherever it would otherwise show.
KEY_PLACEHOLDER = "<API-KEY>"


class Redactor:
    def __init__(self, key: str) -> None:
        # The key as written raw, inside a JSON string, and percent-encoded in a URL.
        self._forms = sorted({key, json.dumps(key)[1:-1], json.dumps(key)[1:-1].replace("/", "\\/"), quote(key, "")})
        self._byte_forms = [form.encode() for form in self._forms]

    def text(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, KEY_PLACEHOLDER)
        return text

    def content(self, content: bytes) -> bytes:
        for form in self._byte_forms:
            content = content.replace(form, KEY_PLACEHOLDER.encode())
        return content

    def headers(self, headers: Iterable[tuple[str, str]]) -> httpx.Headers:
        return httpx.Headers([(self.text(name), self.text(value)) for name, value in headers])

    def response(self, response: Response[Any]) -> Response[None]:
        """The answer as received, less the key; ``parsed`` is dropped (it may hold the key too)."""
        return Response(
            status_code=response.status_code,
            content=self.content(response.content),
            headers=self.headers(response.headers.items()),
            parsed=None,
        )

    def details(self, details: Iterable[ApiErrorDTO]) -> list[ApiErrorDTO]:
        """The Market's code/message pairs, less the key; unknown fields are left out (they may hold it)."""
        return [
            ApiErrorDTO(
                code=self.text(detail.code),
                message=self.text(detail.message) if isinstance(detail.message, str) else UNSET,
            )
            for detail in details
        ]

    def exception(self, error: BaseException) -> BaseException:
        """A copy of a third-party exception to keep as ``__cause__``: same type, message and traceback, but
        none of what it carries (httpx's request holds the key; the generated client's keeps the body)."""
        copy: BaseException
        if isinstance(error, generated_errors.UnexpectedResponse):
            copy = generated_errors.UnexpectedResponse(
                error.status_code, self.content(error.content), self.headers(error.headers.items())
            )
        else:
            try:
                copy = type(error)(self.text(str(error)))
            except TypeError:  # an exception type that wants other arguments
                copy = httpx.RequestError(self.text(f"{type(error).__name__}: {error}"))
        return copy.with_traceback(error.__traceback__)
