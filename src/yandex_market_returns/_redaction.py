"""The key, taken out of everything a server may echo it in before any of it reaches an error.

A hostile or careless server can put the key in an error message, a header or a body. Whatever an error
of ours keeps (message, ``errors``, ``response``, the exception chain) goes through here first, so the
key shows in no ``str()``, pickle or ``logging.exception`` output.
"""

import logging
import re
import weakref
from collections.abc import Iterable
from typing import Any

import httpx

from ._generated import errors as generated_errors
from ._generated import models
from ._generated import types as generated_types

# What stands for the key wherever it would otherwise show.
KEY_PLACEHOLDER = "<API-KEY>"


class Redactor:
    """Finds the key written as is or with any of its characters escaped the ways a server may echo it: in a
    JSON string (``\\u0041``, ``\\/``, ``\\"``), percent-encoded in a URL (``%3a`` or ``%3A``), as an HTML
    character reference (``&#65;``, ``&#x41;``), or as Python shows bytes (``\\\\``, ``\\'``)."""

    def __init__(self, key: str) -> None:
        pattern = "".join(_spellings(char) for char in key)
        self._text = re.compile(pattern)
        self._bytes = re.compile(pattern.encode())  # the key is ASCII: check_api_key makes sure
        _watch_logs(self)

    def text(self, text: str) -> str:
        return self._text.sub(KEY_PLACEHOLDER, text)

    def content(self, content: bytes) -> bytes:
        return self._bytes.sub(KEY_PLACEHOLDER.encode(), content)

    def headers(self, headers: Iterable[tuple[str, str]]) -> httpx.Headers:
        return httpx.Headers([(self.text(name), self.text(value)) for name, value in headers])

    def response(self, response: generated_types.Response[Any]) -> generated_types.Response[None]:
        """The answer as received, less the key; ``parsed`` is dropped (it may hold the key too)."""
        return generated_types.Response(
            status_code=response.status_code,
            content=self.content(response.content),
            headers=self.headers(response.headers.items()),
            parsed=None,
        )

    def details(self, details: Iterable[models.ApiErrorDTO]) -> list[models.ApiErrorDTO]:
        """The Market's code/message pairs, less the key; unknown fields are left out (they may hold it)."""
        return [
            models.ApiErrorDTO(
                code=self.text(detail.code),
                message=self.text(detail.message) if isinstance(detail.message, str) else generated_types.UNSET,
            )
            for detail in details
        ]

    def exception(self, error: BaseException) -> BaseException:
        """A copy of a third-party exception to keep as ``__cause__``: same type and message, but none of what
        it carries (httpx's request holds the key; the generated client's keeps the body), nor its
        traceback, whose frames hold the body in their locals."""
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
        return copy


# The named references html.escape and XML write for these characters.
_HTML_NAMES = {"&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;", "'": "&apos;"}


def _spellings(char: str) -> str:
    code = ord(char)
    return (
        "(?:"
        + "|".join(
            [  # the escapes before the character itself: "%" must not match the start of "%25"
                f"(?i:%{code:02x})",
                f"(?i:\\\\u{code:04x})",
                f"&#0*{code};",
                f"(?i:&#x0*{code:x};)",
                *(["\\\\/"] if char == "/" else []),
                *([re.escape("\\" + char)] if char in "\\\"'" else []),  # JSON's and Python's bytes repr escapes
                *([re.escape(_HTML_NAMES[char])] if char in _HTML_NAMES else []),
                re.escape(char),
            ]
        )
        + ")"
    )


# Third-party loggers that print what a server sent (httpcore at DEBUG prints response headers as received).
_ECHOING_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy")
_LIVE: "weakref.WeakSet[Redactor]" = weakref.WeakSet()


class _KeyFilter(logging.Filter):
    """Takes the key of every live client out of those loggers' records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _LIVE:
            message = record.getMessage()
            cleaned = message
            for redactor in list(_LIVE):
                cleaned = redactor.text(cleaned)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


_FILTER = _KeyFilter()


def _watch_logs(redactor: Redactor) -> None:
    _LIVE.add(redactor)
    for name in _ECHOING_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
