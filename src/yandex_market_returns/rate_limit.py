"""The Market's rate-limit state, as every answer reports it in its headers."""

from collections.abc import Mapping
from datetime import UTC, datetime

from attrs import frozen
from dateutil import parser as date_parser

LIMIT_HEADER = "X-RateLimit-Resource-Limit"
REMAINING_HEADER = "X-RateLimit-Resource-Remaining"
UNTIL_HEADER = "X-RateLimit-Resource-Until"


@frozen
class RateLimit:
    """The method's hourly limit as of one answer.

    A field is ``None`` when its header is absent or unreadable: a proxy's error page carries none, and a
    garbled header must not turn a started cancellation into an error.
    """

    limit: int | None
    remaining: int | None
    until: datetime | None  # timezone-aware; the Market writes an RFC 822 date in GMT

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> "RateLimit":
        return cls(
            limit=_count(headers.get(LIMIT_HEADER)),
            remaining=_count(headers.get(REMAINING_HEADER)),
            until=_moment(headers.get(UNTIL_HEADER)),
        )

    @property
    def exhausted(self) -> bool:
        """No request is left in this period: the next one would be answered 420 until ``until``."""
        return self.remaining == 0


def _count(value: str | None) -> int | None:
    text = (value or "").strip()
    # ASCII digits only, and no more than an int64 holds: int() would take "٣" or choke on 5,000 digits.
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = date_parser.parse(value)
    except (ValueError, OverflowError):
        return None
    # A date without a zone is taken as GMT, which is what the Market documents.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
