"""The Market's rate-limit state, as every answer reports it in its headers."""

import functools
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

import httpx
from attrs import frozen

LIMIT_HEADER = "X-RateLimit-Resource-Limit"
REMAINING_HEADER = "X-RateLimit-Resource-Remaining"
UNTIL_HEADER = "X-RateLimit-Resource-Until"
DATE_HEADER = "Date"

# Zone names a date may carry: RFC 2822's, central Europe's and Russia's, where the Market lives.
# Anything else written as a name is unreadable (``None``), never silently read as UTC.
_ZONE_HOURS = {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    "KALT": 2, "MSK": 3, "MSD": 4, "SAMT": 4, "YEKT": 5, "OMST": 6, "NOVT": 7, "KRAT": 7,
    "IRKT": 8, "YAKT": 9, "VLAT": 10, "MAGT": 11, "SAKT": 11, "SRET": 11, "PETT": 12, "ANAT": 12,
}  # fmt: skip


_TIME = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")
_OFFSET = re.compile(r"(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2})?")


@frozen
class RateLimit:
    """The method's hourly limit as of one answer.

    A field is ``None`` when its header is absent or unreadable: a proxy's error page carries none, and a
    garbled header must not turn a started cancellation into an error. ``date`` is when the Market wrote
    the answer (its ``Date`` header), so that the end of the period is measured by the Market's clock.
    """

    limit: int | None
    remaining: int | None
    until: datetime | None  # timezone-aware; the Market writes an RFC 822 date in GMT
    date: datetime | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> "RateLimit":
        if isinstance(headers, httpx.Headers):
            headers = _wanted(headers)
        return cls(
            limit=_count(headers.get(LIMIT_HEADER)),
            remaining=_count(headers.get(REMAINING_HEADER)),
            until=_moment(headers.get(UNTIL_HEADER)),
            date=_moment(headers.get(DATE_HEADER)),
        )

    @property
    def exhausted(self) -> bool:
        """No request is left in this period: the next one would be answered 420 until ``until``."""
        return self.remaining == 0

    def resets_in(self, now: datetime) -> float | None:
        """Seconds from the answer to the period's end: ``until - date`` by the Market's own clock when the
        answer is dated, else ``until - now``."""
        if self.until is None:
            return None
        return (self.until - (self.date or now)).total_seconds()


_WANTED = {name.lower().encode(): name for name in (LIMIT_HEADER, REMAINING_HEADER, UNTIL_HEADER, DATE_HEADER)}


def _wanted(headers: httpx.Headers) -> dict[str, str]:
    """The four headers in one pass over the raw ones (each ``Headers.get`` is a pass of its own), values
    joined as ``get`` joins them."""
    encoding = headers.encoding
    found: dict[str, str] = {}
    for name, value in headers.raw:
        wanted = _WANTED.get(name.lower())
        if wanted is not None:
            text = value.decode(encoding)
            found[wanted] = f"{found[wanted]}, {text}" if wanted in found else text
    return found


def _count(value: str | None) -> int | None:
    text = (value or "").strip()
    # ASCII digits only, and no more than an int64 holds: int() would take "٣" or choke on 5,000 digits.
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def _moment(value: str | None) -> datetime | None:
    if value is None or len(value) > 100:
        return None
    return _parse_moment(value)


@functools.lru_cache(maxsize=64)
def _parse_moment(value: str) -> datetime | None:
    """Each distinct header value is parsed once: it changes once a period.

    The zone is read by us, from the date's last word, and only when it is unambiguous: an offset
    (``+0300``, ``+03:00``, ``+03``), ``GMT``/``UTC``/``Z`` or a name in ``_ZONE_HOURS``, in any case. A date
    with no zone is GMT, as the Market documents; anything else (``GMT+3``, ``EST5EDT``, an unknown name)
    is unreadable rather than guessed.
    """
    text = value.strip()
    if " " not in text:  # ISO 8601, the one form without spaces
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    rest, last = text.rsplit(None, 1)
    zone: tzinfo | None = UTC
    if _TIME.fullmatch(last):
        rest = text
    else:
        zone = _zone(last)
    naive = None if zone is None else _naive(rest)
    return None if naive is None else naive.replace(tzinfo=zone)


def _zone(word: str) -> tzinfo | None:
    offset = _OFFSET.fullmatch(word)
    if offset is not None:
        sign = -1 if offset["sign"] == "-" else 1
        minutes = int(offset["hours"]) * 60 + int(offset["minutes"] or 0)
        return timezone(sign * timedelta(minutes=minutes)) if minutes < 24 * 60 else None
    hours = _ZONE_HOURS.get(word.upper())
    return None if hours is None else timezone(timedelta(hours=hours))


def _naive(text: str) -> datetime | None:
    """The date and time of a date written without its zone: RFC 2822 first, then whatever dateutil reads."""
    try:
        return parsedate_to_datetime(text).replace(tzinfo=None)
    except (ValueError, TypeError, IndexError, OverflowError):
        pass
    from dateutil import parser as date_parser

    try:
        return date_parser.parse(text, ignoretz=True)
    except (ValueError, OverflowError):
        return None
