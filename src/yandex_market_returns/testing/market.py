"""The fake Market: cancelReturn's, getOperations', getReturn's and getReturns' rules, limits and faults,
behind a real HTTP server on loopback."""

import hmac
import json
import math
import random
import re
import secrets
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import formatdate
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple, Self

from .._constants import (
    CANCELS_PER_HOUR,
    OPERATIONS_PER_HOUR,
    PARALLEL_REQUESTS,
    RETURN_READS_PER_HOUR,
    RETURNS_READS_PER_HOUR,
)
from ..rate_limit import LIMIT_HEADER, REMAINING_HEADER, UNTIL_HEADER
from ..redaction import KEY_PLACEHOLDER
from ..validation import (
    BUSINESS_ID_BOUNDS,
    CAMPAIGN_ID_BOUNDS,
    OPERATION_ID_LENGTH,
    OPERATION_IDS_PER_REQUEST,
    OPERATION_TYPES,
    ORDER_ID_BOUNDS,
    RETURN_ID_BOUNDS,
    RETURN_RECORD_ID_BOUNDS,
    check_id,
)
from .exchanges import Exchange, StartedOperation
from .faults import Canned, Fault
from .handler import MarketServer
from .operations import DONE, OperationBook
from .returns import CANCELLED, CREATED, Return, int_within, now, page, read_query

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
        limit_period: float = 3600.0,
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
