"""The fake Market: cancelReturn's, getOperations', getReturn's and getReturns' rules, limits and faults,
behind a real HTTP server on loopback."""

import base64
import binascii
import heapq
import hmac
import itertools
import json
import logging
import math
import random
import re
import secrets
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from email.message import Message
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple, Self
from urllib.parse import parse_qs

from attrs import define

from .._constants import (
    CANCELS_PER_HOUR,
    LIMIT_PERIOD,
    OPERATIONS_PER_HOUR,
    PARALLEL_REQUESTS,
    RETURN_READS_PER_HOUR,
    RETURNS_READS_PER_HOUR,
)
from .._rate_limit import LIMIT_HEADER, REMAINING_HEADER, UNTIL_HEADER
from .._redaction import KEY_PLACEHOLDER
from .._validation import (
    BUSINESS_ID_BOUNDS,
    CAMPAIGN_ID_BOUNDS,
    OPERATION_ID_LENGTH,
    OPERATION_IDS_PER_REQUEST,
    OPERATION_TYPES,
    ORDER_ID_BOUNDS,
    ORDER_IDS_PER_PAGE,
    PAGE_LIMIT_BOUNDS,
    REFUND_STATUSES,
    RETURN_ID_BOUNDS,
    RETURN_RECORD_ID_BOUNDS,
    RETURN_TYPES,
    SHIPMENT_STATUSES,
    check_id,
)
from ._exchanges import Exchange, StartedOperation
from ._faults import Canned, Fault

# The fake Market's own record of each return: what getReturn and getReturns read, with getReturns' filters
# and pages.

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


# Each method: its path, the one HTTP method the spec declares on it, and whom the path's id names (a store
# or a business: whose 4 requests in flight it counts against, across all of its methods).
_ROUTES = (
    ("cancelReturn", re.compile(r"^/v1/campaigns/(?P<id>[^/?#]*)/returns/cancel$"), "POST", "campaign"),
    ("getOperations", re.compile(r"^/v1/businesses/(?P<id>[^/?#]*)/operations$"), "POST", "business"),
    (
        "getReturn",
        re.compile(r"^/v2/campaigns/(?P<id>[^/?#]*)/orders/(?P<order>[^/?#]*)/returns/(?P<ret>[^/?#]*)(?:\?[^#]*)?$"),
        "GET",
        "campaign",
    ),
    ("getReturns", re.compile(r"^/v2/campaigns/(?P<id>[^/?#]*)/returns(?:\?(?P<query>[^#]*))?$"), "GET", "campaign"),
)

Answer = tuple[int, dict[str, str], bytes]
# Whose requests in flight a request counts against: ("campaign", campaignId) or ("business", businessId).
Counted = tuple[str, int]
# Whose hourly limit a request spends: (operationId, campaignId or businessId); each method has its own.
Period = tuple[str, int]


class _Admitted(NamedTuple):
    method: str  # the operationId
    counted: Counted
    path: re.Match[str]


class FakeMarket:
    """A local stand-in for the Market's cancelReturn, getOperations, getReturn and getReturns, on 127.0.0.1 and
    a free port::

        with FakeMarket() as market:
            market.add_returns(21621656, 97211)
            client = ReturnsClient(api_key=market.api_key, base_url=market.base_url)

    It checks the key (401 without, 403 with a wrong one), the path, the query and the body (400), and
    answers 405 (with ``Allow``) to any other HTTP method on a method's path. A cancellation starts an
    operation that is ``IN_PROGRESS`` for ``operation_delay`` seconds, then ``DONE`` (the return becomes
    ``CANCELLED``, its ``updateDate`` the moment it ended), or ``FAILED`` for a return added with
    ``cancellation_fails`` (it stays ``CREATED``); only a ``CREATED`` return with no cancellation in
    progress can be cancelled (400 otherwise, and for unknown ids). getOperations reports the operations of
    the business's stores: ``businesses`` maps stores to businesses, and a store not in it belongs to
    ``DEFAULT_BUSINESS``. getReturn reads one return of an order of the store (404 for any other);
    getReturns lists the store's returns by id, filtered and in pages.

    It answers 420 past ``parallel_limit`` requests in flight per store (cancelReturn, getReturn and
    getReturns together) or per business (getOperations), or past each method's own hourly limit per
    ``limit_period`` seconds: ``hourly_limit`` (cancelReturn), ``return_hourly_limit`` (getReturn),
    ``returns_hourly_limit`` (getReturns), per store, and ``operations_hourly_limit`` (getOperations, per
    business); it puts the three rate-limit headers on every answer of its own. Faults come from
    ``inject()`` (in order; canned answers too) or at random at ``fault_rate``.
    """

    #: The business of every store that ``businesses`` does not map elsewhere.
    DEFAULT_BUSINESS = 11029645

    def __init__(
        self,
        *,
        api_key: str | None = None,
        hourly_limit: int = CANCELS_PER_HOUR,
        operations_hourly_limit: int = OPERATIONS_PER_HOUR,
        return_hourly_limit: int = RETURN_READS_PER_HOUR,
        returns_hourly_limit: int = RETURNS_READS_PER_HOUR,
        limit_period: float = LIMIT_PERIOD,
        operation_delay: float = 0.0,
        businesses: Mapping[int, int] | None = None,
        parallel_limit: int = PARALLEL_REQUESTS,
        latency: float = 0.0,
        slow_answer_delay: float = 1.0,
        fault_rate: float = 0.0,
        faults: Iterable[Fault] = tuple(Fault),
        seed: int | None = None,
    ) -> None:
        self._api_key = api_key if api_key is not None else secrets.token_urlsafe(24)
        self.hourly_limit = hourly_limit
        self.operations_hourly_limit = operations_hourly_limit
        self.return_hourly_limit = return_hourly_limit
        self.returns_hourly_limit = returns_hourly_limit
        self.limit_period = limit_period
        self.operation_delay = operation_delay
        self._businesses = dict(businesses or {})
        self.parallel_limit = parallel_limit
        self.latency = latency
        self.slow_answer_delay = slow_answer_delay
        self.fault_rate = fault_rate
        self._random_faults = tuple(faults)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._returns: dict[tuple[int, int], Return] = {}
        self._failing: set[tuple[int, int]] = set()  # returns whose cancellation fails
        self._cancelling: set[tuple[int, int]] = set()  # returns with a cancellation in progress
        self._injected: deque[Fault | Canned] = deque()
        self._periods: dict[Period, tuple[float, int]] = {}  # -> (end of period, requests used)
        self._in_flight: Counter[Counted] = Counter()
        self._max_in_flight: Counter[Counted] = Counter()
        self._exchanges: list[Exchange] = []
        self._book = OperationBook()
        self._server: ThreadingHTTPServer | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"FakeMarket({where})"

    # Lifecycle

    def start(self) -> Self:
        self._server = MarketServer(self)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Market is not running: use it as a context manager or call start()")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_key(self) -> str:
        """The one key this Market accepts (random unless given)."""
        return self._api_key

    # State

    def add_returns(
        self,
        campaign_id: int,
        *return_ids: int,
        shipment_status: str = CREATED,
        cancellation_fails: bool = False,
        order_id: int | None = None,
    ) -> None:
        """Add returns to a store, all of the order ``order_id`` (when not given, each of an order numbered
        like itself); with ``cancellation_fails`` their cancellation operations end ``FAILED``."""
        added = now()
        with self._lock:
            for return_id in return_ids:
                order = return_id if order_id is None else order_id
                self._returns[campaign_id, return_id] = Return(
                    campaign_id, order, return_id, shipment_status, added, added
                )
                if cancellation_fails:
                    self._failing.add((campaign_id, return_id))
                else:
                    self._failing.discard((campaign_id, return_id))

    def shipment_status(self, campaign_id: int, return_id: int) -> str | None:
        with self._lock:
            self._settle()
            record = self._returns.get((campaign_id, return_id))
            return None if record is None else record.shipment_status

    def return_record(self, campaign_id: int, return_id: int) -> dict[str, object] | None:
        """The return as getReturn answers it (``ReturnDTO``); ``None`` for one the store does not have."""
        with self._lock:
            self._settle()
            record = self._returns.get((campaign_id, return_id))
            return None if record is None else record.document()

    def business_of(self, campaign_id: int) -> int:
        return self._businesses.get(campaign_id, self.DEFAULT_BUSINESS)

    def operation_status(self, operation_id: str) -> str | None:
        """``IN_PROGRESS``, ``DONE`` or ``FAILED``; ``None`` for an operation this Market never started."""
        with self._lock:
            self._settle()
            return self._book.status(operation_id)

    def inject(self, *faults: Fault | Canned) -> None:
        """Queue faults or canned answers for the next requests, one each, before any random ones."""
        with self._lock:
            self._injected.extend(faults)

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    @property
    def operations(self) -> list[StartedOperation]:
        """Every cancellation started, in order."""
        with self._lock:
            return list(self._book.started)

    def max_in_flight(self, campaign_id: int) -> int:
        """The most requests this store ever had in flight at once (cancelReturn, getReturn and getReturns
        together), over the limit or not."""
        with self._lock:
            return self._max_in_flight["campaign", campaign_id]

    def max_operations_in_flight(self, business_id: int) -> int:
        """The most getOperations requests this business ever had in flight at once, over the limit or not."""
        with self._lock:
            return self._max_in_flight["business", business_id]

    # Serving (called by the handler, one thread per connection)

    def next_fault(self) -> Fault | Canned | None:
        with self._lock:
            if self._injected:
                return self._injected.popleft()
            if self._random_faults and self._random.random() < self.fault_rate:
                return self._random.choice(self._random_faults)
            return None

    def fault_answer(self, fault: Fault | Canned) -> Answer:
        if isinstance(fault, Canned):
            return fault.status, dict(fault.headers), fault.body
        if fault is Fault.HTML_BAD_GATEWAY:
            page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
            return 502, {"Content-Type": "text/html"}, page
        if fault in (Fault.SERVER_ERROR, Fault.SERVER_ERROR_AFTER_ACTING):
            return self._error(500, "INTERNAL_ERROR", "Internal server error", None)
        return 200, {"Content-Type": "application/json"}, _json({"status": "OK", "result": {"operation": {}}})

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    def redacted(self, headers: Message) -> dict[str, str]:
        return {name: KEY_PLACEHOLDER if name.lower() == "api-key" else value for name, value in headers.items()}

    def answer(self, method: str, path: str, headers: Message, body: bytes) -> Answer:
        """What the Market answers to one request, after ``latency`` seconds (counted in flight meanwhile)."""
        admitted = self._admit(method, path, headers)
        if not isinstance(admitted, _Admitted):
            self._wait()
            return admitted
        counted = admitted.counted
        with self._lock:
            self._in_flight[counted] += 1
            in_flight = self._in_flight[counted]
            self._max_in_flight[counted] = max(self._max_in_flight[counted], in_flight)
        try:
            self._wait()
            refusal = self._over_limit(admitted, in_flight)
            if refusal is not None:
                return refusal
            number = counted[1]
            if admitted.method == "cancelReturn":
                return self._cancel(number, headers, body)
            if admitted.method == "getOperations":
                return self._get_operations(number, headers, body)
            if admitted.method == "getReturn":
                return self._get_return(number, admitted.path["order"], admitted.path["ret"])
            return self._get_returns(number, admitted.path["query"] or "")
        finally:
            with self._lock:
                self._in_flight[counted] -= 1

    def _wait(self) -> None:
        if self.latency > 0:  # no sleep(0): on a busy machine it gives the CPU away
            time.sleep(self.latency)

    def _admit(self, method: str, path: str, headers: Message) -> _Admitted | Answer:
        """The method and whose limits a request counts against, or the refusal of a request that never
        reaches them."""
        routed = _route(path)
        if routed is None:
            return self._error(404, "NOT_FOUND", f"Method {path[:100]} not found", None)
        name, match, allowed, kind = routed
        raw_id = match["id"]
        bounds = CAMPAIGN_ID_BOUNDS if kind == "campaign" else BUSINESS_ID_BOUNDS
        if method != allowed:
            status, answer_headers, content = self._error(
                405, "METHOD_NOT_ALLOWED", f"Method {method[:20]} not allowed", None
            )
            return status, {**answer_headers, "Allow": allowed}, content
        key = headers.get("Api-Key")
        if key is None:
            return self._error(401, "UNAUTHORIZED", "Missing Api-Key header or OAuth token", None)
        if not hmac.compare_digest(key.encode(), self._api_key.encode()):
            return self._error(403, "FORBIDDEN", f"Access denied to {kind} {raw_id[:40]}", None)
        number = int_within(raw_id, bounds)
        if number is None:
            return self._error(400, "BAD_REQUEST", f"Invalid {kind}Id: {raw_id[:40]}", None)
        return _Admitted(name, (kind, number), match)

    def _over_limit(self, admitted: _Admitted, in_flight: int) -> Answer | None:
        kind, number = admitted.counted
        period = (admitted.method, number)
        if in_flight > self.parallel_limit:
            message = f"Hit rate limit of {self.parallel_limit} parallel requests for {kind}Id {number}"
            return self._error(420, "HIT_RATE_LIMIT", message, period)
        if not self._spend_one(period):
            message = f"Hit rate limit of {self._limit(period)} requests per hour for {kind}Id {number}"
            return self._error(420, "HIT_RATE_LIMIT", message, period)
        return None

    def _cancel(self, campaign_id: int, headers: Message, body: bytes) -> Answer:
        counted = ("cancelReturn", campaign_id)
        document = _json_object(headers, body)
        return_id = _checked(document.get("returnId"), RETURN_ID_BOUNDS) if document is not None else None
        if return_id is None:
            return self._error(400, "BAD_REQUEST", "Invalid returnId", counted)
        operation = None
        key = (campaign_id, return_id)
        with self._lock:
            self._settle()
            record = self._returns.get(key)
            status = None if record is None else record.shipment_status
            if status == CREATED and key not in self._cancelling:
                operation = StartedOperation(str(uuid.uuid4()), campaign_id, return_id, self.business_of(campaign_id))
                self._book.start(operation, time.monotonic() + self.operation_delay, fails=key in self._failing)
                self._cancelling.add(key)
                self._settle()  # with no delay, the cancellation is applied at once
        if status is None:
            return self._error(400, "BAD_REQUEST", f"Return {return_id} not found", counted)
        if operation is None:
            why = (
                "a cancellation is in progress" if status == CREATED else f"its shipmentStatus is {status}, not CREATED"
            )
            return self._error(400, "BAD_REQUEST", f"Return {return_id} can't be cancelled: {why}", counted)
        result = {"operation": {"id": operation.id, "type": "RETURN_CANCELLATION"}}
        return 200, self._headers(counted), _json({"status": "OK", "result": result})

    def _get_operations(self, business_id: int, headers: Message, body: bytes) -> Answer:
        counted = ("getOperations", business_id)
        document = _json_object(headers, body)
        if document is None:
            return self._error(400, "BAD_REQUEST", "The body must be a JSON object", counted)
        operation_type, operation_ids = document.get("operationType"), document.get("operationIds")
        if operation_type not in OPERATION_TYPES:
            return self._error(400, "BAD_REQUEST", f"Invalid operationType: {str(operation_type)[:40]}", counted)
        problem = _operation_ids_problem(operation_ids)
        if problem is not None or not isinstance(operation_ids, list):
            return self._error(400, "BAD_REQUEST", f"operationIds: {problem}", counted)
        found = []
        with self._lock:
            self._settle()
            for operation_id in operation_ids:
                operation = self._book.find(operation_id)
                if (
                    operation is not None
                    and operation.business_id == business_id
                    and operation_type == "RETURN_CANCELLATION"
                ):
                    found.append(
                        {"id": operation_id, "type": operation_type, "status": self._book.status(operation_id)}
                    )
        return 200, self._headers(counted), _json({"status": "OK", "result": {"operations": found}})

    def _get_return(self, campaign_id: int, raw_order: str, raw_return: str) -> Answer:
        counted = ("getReturn", campaign_id)
        order_id = int_within(raw_order, ORDER_ID_BOUNDS)
        return_id = int_within(raw_return, RETURN_RECORD_ID_BOUNDS)
        if order_id is None or return_id is None:
            name, raw = ("orderId", raw_order) if order_id is None else ("returnId", raw_return)
            return self._error(400, "BAD_REQUEST", f"Invalid {name}: {raw[:40]}", counted)
        with self._lock:
            self._settle()
            record = self._returns.get((campaign_id, return_id))
            document = None if record is None or record.order_id != order_id else record.document()
        if document is None:
            return self._error(404, "NOT_FOUND", f"Return {return_id} of order {order_id} not found", counted)
        return 200, self._headers(counted), _json({"status": "OK", "result": document})

    def _get_returns(self, campaign_id: int, query: str) -> Answer:
        counted = ("getReturns", campaign_id)
        asked = read_query(query)
        if asked.problem is not None:
            return self._error(400, "BAD_REQUEST", asked.problem, counted)
        with self._lock:
            self._settle()
            result = page((r for (store, _), r in self._returns.items() if store == campaign_id), asked)
        return 200, self._headers(counted), _json({"status": "OK", "result": result})

    def _settle(self) -> None:
        """Apply the cancellations whose operations have ended, at the moment each ended; the caller holds the
        lock."""
        monotonic, wall = time.monotonic(), datetime.now(UTC)
        for operation, status, ended_at in self._book.settle(monotonic):
            key = (operation.campaign_id, operation.return_id)
            self._cancelling.discard(key)
            if status == DONE:
                ended = wall - timedelta(seconds=monotonic - ended_at)
                self._returns[key].move_to(CANCELLED, ended.replace(microsecond=0))

    def _limit(self, period: Period) -> int:
        return {
            "cancelReturn": self.hourly_limit,
            "getOperations": self.operations_hourly_limit,
            "getReturn": self.return_hourly_limit,
            "getReturns": self.returns_hourly_limit,
        }[period[0]]

    def _spend_one(self, counted: Period) -> bool:
        """Count a request against its period; False when the period has none left."""
        with self._lock:
            end, used = self._period(counted)
            if used >= self._limit(counted):
                return False
            self._periods[counted] = (end, used + 1)
            return True

    def _error(self, status: int, code: str, message: str, counted: Period | None) -> Answer:
        body = {"status": "ERROR", "errors": [{"code": code, "message": message}]}
        return status, self._headers(counted), _json(body)

    def _headers(self, counted: Period | None) -> dict[str, str]:
        limit = self.hourly_limit if counted is None else self._limit(counted)
        with self._lock:
            end, used = self._period(counted) if counted is not None else self._fresh_period()
        return {
            "Content-Type": "application/json",
            LIMIT_HEADER: str(limit),
            REMAINING_HEADER: str(max(limit - used, 0)),
            UNTIL_HEADER: formatdate(end, usegmt=True),
        }

    def _period(self, counted: Period) -> tuple[float, int]:
        """The current period of a method of a store or business; the caller holds the lock."""
        end, used = self._periods.get(counted, (0.0, 0))
        if time.time() >= end:
            end, used = self._fresh_period()
            self._periods[counted] = (end, used)
        return end, used

    def _fresh_period(self) -> tuple[float, int]:
        # Periods end on a whole second, as the one-second resolution of X-RateLimit-Resource-Until says.
        return float(math.ceil(time.time() + self.limit_period)), 0


def _route(path: str) -> tuple[str, re.Match[str], str, str] | None:
    """The method at ``path``: its operationId, the path's parts, its HTTP method and whom its id names."""
    for name, route, allowed, kind in _ROUTES:
        match = route.match(path)
        if match is not None:
            return name, match, allowed, kind
    return None


def _json_object(headers: Message, body: bytes) -> dict[str, Any] | None:
    if not headers.get("Content-Type", "").startswith("application/json"):
        return None
    try:
        document: Any = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _operation_ids_problem(operation_ids: object) -> str | None:
    low, high = OPERATION_ID_LENGTH
    if not isinstance(operation_ids, list) or not 1 <= len(operation_ids) <= OPERATION_IDS_PER_REQUEST:
        return f"must be a list of 1 to {OPERATION_IDS_PER_REQUEST} ids"
    if not all(isinstance(item, str) and low <= len(item) <= high for item in operation_ids):
        return f"every id must be a string of {low} to {high} characters"
    if len(set(operation_ids)) < len(operation_ids):
        return "ids must be unique"
    return None


def _checked(value: object, bounds: tuple[int, int]) -> int | None:
    """The client's own check, so that the two accept exactly the same ids."""
    try:
        return check_id("id", value, bounds)
    except (TypeError, ValueError):
        return None


def _json(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


# The fake Market's operations: a started cancellation is in progress for a while, then done or failed.

IN_PROGRESS, DONE, FAILED = "IN_PROGRESS", "DONE", "FAILED"


class OperationBook:
    """Every operation started, and when each ends. Not locked: the FakeMarket calls it under its lock."""

    def __init__(self) -> None:
        self.started: list[StartedOperation] = []
        self._status: dict[str, str] = {}
        self._by_id: dict[str, StartedOperation] = {}
        self._ending: list[tuple[float, int, str, str]] = []  # (ends at, tie-break, id, final status)
        self._order = itertools.count()

    def start(self, operation: StartedOperation, ends_at: float, fails: bool) -> None:
        self.started.append(operation)
        self._by_id[operation.id] = operation
        self._status[operation.id] = IN_PROGRESS
        heapq.heappush(self._ending, (ends_at, next(self._order), operation.id, FAILED if fails else DONE))

    def settle(self, now: float) -> list[tuple[StartedOperation, str, float]]:
        """End the operations whose time has come; each one ended, with its final status and when it ended."""
        ended = []
        while self._ending and self._ending[0][0] <= now:
            ends_at, _, operation_id, status = heapq.heappop(self._ending)
            self._status[operation_id] = status
            ended.append((self._by_id[operation_id], status, ends_at))
        return ended

    def status(self, operation_id: str) -> str | None:
        return self._status.get(operation_id)

    def find(self, operation_id: str) -> StartedOperation | None:
        return self._by_id.get(operation_id)


# HTTP glue between a socket and the fake Market's rules.

logger = logging.getLogger("yandex_market_returns.testing")

# Faults that replace the Market's answer: the request is not carried out.
_INSTEAD = (Fault.SERVER_ERROR, Fault.HTML_BAD_GATEWAY, Fault.DROPPED_CONNECTION)


class MarketServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a burst of new connections overflows it and the kernel drops
    # the extra SYNs, which clients resend only a second later. The Market itself takes bursts.
    request_queue_size = 128

    def __init__(self, market: FakeMarket) -> None:
        super().__init__(("127.0.0.1", 0), MarketHandler)
        self.market = market

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gives up on a request (a timeout, a cancelled task) breaks the pipe: that is a test
        # doing its job, not an error worth a traceback on stderr.
        logger.debug("fake Market: exchange with %s ended early", client_address, exc_info=True)


class MarketHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients pool connections as they do with the Market
    timeout = 30  # seconds an idle kept-alive connection holds its thread
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms wait for a delayed ACK
    server: MarketServer

    def __getattr__(self, name: str) -> object:
        # BaseHTTPRequestHandler looks up do_<METHOD>; the Market answers every method itself (405 for any
        # the spec does not declare), where the standard library would send an HTML 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("fake Market: " + format, *args)

    def _serve(self) -> None:
        received_at = time.monotonic()
        market = self.server.market
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = market.next_fault()
        if isinstance(fault, Canned) or fault in _INSTEAD:
            answer = market.fault_answer(fault)
        else:
            answer = market.answer(self.command, self.path, self.headers, body)
            if fault is Fault.SERVER_ERROR_AFTER_ACTING:
                answer = market.fault_answer(fault)
        status, headers, content = answer
        if fault is Fault.ANSWER_LOST:
            content = b""
        sent = content[: len(content) // 2] if fault in (Fault.TRUNCATED_BODY, Fault.DROPPED_CONNECTION) else content
        # Recorded before it is sent: a client that has its answer finds it in market.exchanges.
        market.record(
            Exchange(
                method=self.command,
                path=self.path,
                headers=market.redacted(self.headers),
                body=body,
                status=status,
                response_headers=headers,
                response_body=sent,
                fault=fault,
                received_at=received_at,
            )
        )
        if fault is Fault.ANSWER_LOST:
            self.close_connection = True
            return
        if fault is Fault.SLOW_ANSWER:
            time.sleep(market.slow_answer_delay)
        self.log_request(status)
        self.send_response_only(status)
        self.send_header("Server", self.version_string())
        if "Date" not in headers:  # a canned answer may bring its own (a server whose clock is off)
            self.send_header("Date", self.date_time_string())
        for name, value in headers.items():
            self.send_header(name, value)
        # A dropped connection promises the whole body and closes after half of it. A canned answer with a
        # Content-Length of its own, which may not match its body, closes too, so that no client hangs.
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(content) if fault is Fault.DROPPED_CONNECTION else len(sent)))
        if fault is Fault.DROPPED_CONNECTION or "Content-Length" in headers:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":  # an answer to HEAD has no body, whatever its Content-Length says
            self.wfile.write(sent)
        self.wfile.flush()
