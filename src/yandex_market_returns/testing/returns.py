"""The fake Market's own record of each return: what getReturn and getReturns read, with getReturns' filters
and pages."""

import base64
import binascii
import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import parse_qs

from attrs import define

from ..validation import (
    ORDER_ID_BOUNDS,
    ORDER_IDS_PER_PAGE,
    PAGE_LIMIT_BOUNDS,
    REFUND_STATUSES,
    RETURN_TYPES,
    SHIPMENT_STATUSES,
    check_id,
)

CREATED, CANCELLED = "CREATED", "CANCELLED"
# The Market's clock: its dates are Moscow's, and a day for fromDate/toDate is a Moscow day.
MSK = timezone(timedelta(hours=3))
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@define
class Return:
    """One return of a store, as the Market keeps it; not locked: the FakeMarket changes it under its lock."""

    campaign_id: int
    order_id: int
    return_id: int
    shipment_status: str
    created: datetime
    updated: datetime

    def move_to(self, shipment_status: str, at: datetime) -> None:
        if shipment_status != self.shipment_status:
            self.shipment_status = shipment_status
            self.updated = at

    @property
    def refund_status(self) -> str:
        return "CANCELLED" if self.shipment_status == CANCELLED else "STARTED_BY_USER"

    def document(self) -> dict[str, object]:
        """The return as ``ReturnDTO``: one item, a refund status that follows the shipment status."""
        return {
            "id": self.return_id,
            "orderId": self.order_id,
            "creationDate": self.created.astimezone(MSK).isoformat(timespec="seconds"),
            "updateDate": self.updated.astimezone(MSK).isoformat(timespec="seconds"),
            "refundStatus": self.refund_status,
            "shipmentRecipientType": "SHOP",
            "shipmentStatus": self.shipment_status,
            "items": [{"shopSku": f"SKU-{self.return_id}", "count": 1}],
            "returnType": "RETURN",
            "fastReturn": False,
        }


@define
class Query:
    """getReturns' filters, read from the query string; ``problem`` names the first bad parameter."""

    limit: int = 50
    after: int | None = None  # the page token: the last return id of the previous page
    order_ids: frozenset[int] | None = None
    refund_statuses: frozenset[str] | None = None
    shipment_statuses: frozenset[str] | None = None
    return_type: str | None = None
    from_date: date | None = None
    to_date: date | None = None
    problem: str | None = None

    def matches(self, record: Return) -> bool:
        day = record.updated.astimezone(MSK).date()
        return (
            (self.order_ids is None or record.order_id in self.order_ids)
            and (self.refund_statuses is None or record.refund_status in self.refund_statuses)
            and (self.shipment_statuses is None or record.shipment_status in self.shipment_statuses)
            and (self.return_type is None or self.return_type == "RETURN")
            and (self.from_date is None or day >= self.from_date)
            and (self.to_date is None or day <= self.to_date)
        )


def read_query(query: str) -> Query:
    """getReturns' query string, checked as openapi.yaml bounds it. A list comes as repeated parameters or
    comma-separated, as the Market takes it."""
    try:
        raw = parse_qs(query, keep_blank_values=True, strict_parsing=False, max_num_fields=1000)
    except ValueError:
        return Query(problem="Invalid query string")
    found = Query()

    def one(name: str) -> str | None:
        values = raw.get(name)
        return None if values is None else values[-1]

    def many(name: str) -> list[str] | None:
        values = raw.get(name)
        return None if values is None else [part for value in values for part in value.split(",")]

    limit = one("limit")
    if limit is not None:
        found.limit = int_within(limit, PAGE_LIMIT_BOUNDS) or 0
        if not found.limit:
            low, high = PAGE_LIMIT_BOUNDS
            return Query(problem=f"Invalid limit: {limit[:40]} ({low} to {high})")
    token = one("pageToken") or one("page_token")
    if token is not None:
        found.after = _after(token)
        if found.after is None:
            return Query(problem=f"Invalid pageToken: {token[:40]}")
    order_ids = many("orderIds")
    if order_ids is not None:
        numbers = [int_within(value, ORDER_ID_BOUNDS) for value in order_ids]
        if len(numbers) > ORDER_IDS_PER_PAGE or len(set(numbers)) < len(numbers) or None in numbers:
            return Query(problem=f"Invalid orderIds: up to {ORDER_IDS_PER_PAGE} unique order ids")
        found.order_ids = frozenset(n for n in numbers if n is not None)
    for name, allowed, field in (
        ("statuses", REFUND_STATUSES, "refund_statuses"),
        ("shipmentStatuses", SHIPMENT_STATUSES, "shipment_statuses"),
    ):
        values = many(name)
        if values is not None:
            unknown = [value for value in values if value not in set(allowed)]
            if unknown or len(set(values)) < len(values):
                return Query(problem=f"Invalid {name}: {','.join(values)[:80]}")
            setattr(found, field, frozenset(values))
    return_type = one("type")
    if return_type is not None and return_type not in RETURN_TYPES:
        return Query(problem=f"Invalid type: {return_type[:40]}")
    found.return_type = return_type
    for names, field in ((("fromDate", "from_date"), "from_date"), (("toDate", "to_date"), "to_date")):
        text = next((value for value in map(one, names) if value is not None), None)
        if text is not None:
            day = _day(text)
            if day is None:
                return Query(problem=f"Invalid {names[0]}: {text[:40]} (YYYY-MM-DD)")
            setattr(found, field, day)
    if found.from_date is not None and found.to_date is not None and found.from_date > found.to_date:
        return Query(problem="Invalid dates: fromDate is after toDate")
    return found


def page(records: Iterable[Return], query: Query) -> dict[str, object]:
    """One page of ``PagedReturnsDTO``, by return id; ``paging.nextPageToken`` only when more follow."""
    chosen = sorted(
        (r for r in records if (query.after is None or r.return_id > query.after) and query.matches(r)),
        key=lambda r: r.return_id,
    )
    shown = chosen[: query.limit]
    result: dict[str, object] = {"returns": [record.document() for record in shown]}
    result["paging"] = {"nextPageToken": _token(shown[-1].return_id)} if len(chosen) > len(shown) else {}
    return result


def now() -> datetime:
    """Whole seconds, as the Market's dates have them."""
    return datetime.now(UTC).replace(microsecond=0)


def _token(after: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def _after(token: str) -> int | None:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        return None
    value = decoded.get("after") if isinstance(decoded, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def int_within(text: str, bounds: tuple[int, int]) -> int | None:
    """An id or number of a path or query, checked as the client checks it (so that both accept the same)."""
    if not re.fullmatch(r"-?[0-9]{1,20}", text):
        return None
    try:
        return check_id("value", int(text), bounds)
    except ValueError:
        return None


def _day(text: str) -> date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
