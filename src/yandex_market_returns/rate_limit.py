"""The Market's rate-limit state, as every answer reports it in its headers."""

import functools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

from attrs import frozen
from dateutil import parser as date_parser

LIMIT_HEADER = "X-RateLimit-Resource-Limit"
REMAINING_HEADER = "X-RateLimit-Resource-Remaining"
UNTIL_HEADER = "X-RateLimit-Resource-Until"
DATE_HEADER = "Date"

# Zone names a date may carry beyond the ones RFC 2822 knows: Russia's, where the Market lives.
# Anything else written as a name is unreadable (``None``), never silently read as UTC.
_ZONE_HOURS = {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    "KALT": 2, "MSK": 3, "MSD": 4, "SAMT": 4, "YEKT": 5, "OMST": 6, "NOVT": 7, "KRAT": 7,
    "IRKT": 8, "YAKT": 9, "VLAT": 10, "MAGT": 11, "SAKT": 11, "SRET": 11, "PETT": 12, "ANAT": 12,
}  # fmt: skip


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
    """Each distinct header value is parsed once: it changes once a period."""
    try:
        moment = parsedate_to_datetime(value)  # RFC 2822, what the Market writes
    except (ValueError, TypeError, IndexError, OverflowError):
        moment = None
    if moment is not None and (moment.tzinfo is not None or _zone_name(value) is None):
        return moment.replace(tzinfo=moment.tzinfo or UTC)  # no zone at all: GMT, as the Market documents
    try:
        moment = date_parser.parse(value, tzinfos=_zone)
    except (ValueError, OverflowError, _UnknownZoneError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class _UnknownZoneError(Exception):
    pass


def _zone(name: str | None, offset: int | None) -> tzinfo | None:
    if offset is not None:
        return timezone(timedelta(seconds=offset))
    if name is None:
        return None
    hours = _ZONE_HOURS.get(name.upper())
    if hours is None:
        raise _UnknownZoneError(name)
    return timezone(timedelta(hours=hours)) if hours else UTC


def _zone_name(value: str) -> str | None:
    """The trailing zone word of a date, if it ends in one ("... 12:00:00 MSK")."""
    last = value.rsplit(None, 1)[-1] if value.strip() else ""
    return last if last.isalpha() and last.upper() not in ("GMT", "UT", "UTC", "Z") else None
