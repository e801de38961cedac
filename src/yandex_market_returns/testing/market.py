"""The fake Market: cancelReturn's and getOperations' rules, limits and faults, behind a real HTTP server on
loopback."""

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
from email.message import Message
from email.utils import formatdate
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from ..rate_limit import LIMIT_HEADER, REMAINING_HEADER, UNTIL_HEADER
from ..redaction import KEY_PLACEHOLDER
from ..validation import (
    BUSINESS_ID_BOUNDS,
    CAMPAIGN_ID_BOUNDS,
    OPERATION_ID_LENGTH,
    OPERATION_IDS_PER_REQUEST,
    OPERATION_TYPES,
    RETURN_ID_BOUNDS,
    check_id,
)
from .exchanges import Exchange, StartedOperation
from .faults import Canned, Fault
from .handler import MarketServer
from .operations import DONE, OperationBook

# Each method's path, and what its path parameter counts limits by: a store, or a business.
_CANCEL = re.compile(r"^/v1/campaigns/(?P<id>[^/?#]*)/returns/cancel$")
_OPERATIONS = re.compile(r"^/v1/businesses/(?P<id>[^/?#]*)/operations$")
_CANCELLABLE = "CREATED"
_ALLOWED = "POST"  # the one method the spec declares on either path

Answer = tuple[int, dict[str, str], bytes]
# Whose limits a request counts against: ("campaign", campaignId) or ("business", businessId).
Counted = tuple[str, int]


class FakeMarket:
    """A local stand-in for the Market's cancelReturn and getOperations, on 127.0.0.1 and a free port::

        with FakeMarket() as market:
            market.add_returns(21621656, 97211)
            client = ReturnsClient(api_key=market.api_key, base_url=market.base_url)

    It checks the key (401 without, 403 with a wrong one), the path and the body (400), and answers 405
    (with ``Allow: POST``) to any other method on either path. A cancellation starts an operation that is
    ``IN_PROGRESS`` for ``operation_delay`` seconds, then ``DONE`` (the return becomes ``CANCELLED``), or
    ``FAILED`` for a return added with ``cancellation_fails`` (it stays ``CREATED``); only a ``CREATED``
    return with no cancellation in progress can be cancelled (400 otherwise, and for unknown ids).
    getOperations reports the operations of the business's stores: ``businesses`` maps stores to
    businesses, and a store not in it belongs to ``DEFAULT_BUSINESS``.

    It answers 420 past ``parallel_limit`` requests in flight per store (cancelReturn) or per business
    (getOperations), or past ``hourly_limit`` (cancelReturn, per store) or ``operations_hourly_limit``
    (getOperations, per business) requests per ``limit_period`` seconds, and puts the three rate-limit
    headers on every answer of its own. Faults come from ``inject()`` (in order; canned answers too) or at
    random at ``fault_rate``.
    """

    #: The business of every store that ``businesses`` does not map elsewhere.
    DEFAULT_BUSINESS = 11029645

    def __init__(
        self,
        *,
        api_key: str | None = None,
        hourly_limit: int = 5000,
        operations_hourly_limit: int = 1000,
        limit_period: float = 3600.0,
        operation_delay: float = 0.0,
        businesses: Mapping[int, int] | None = None,
        parallel_limit: int = 4,
        latency: float = 0.0,
        slow_answer_delay: float = 1.0,
        fault_rate: float = 0.0,
        faults: Iterable[Fault] = tuple(Fault),
        seed: int | None = None,
    ) -> None:
        self._api_key = api_key if api_key is not None else secrets.token_urlsafe(24)
        self.hourly_limit = hourly_limit
        self.operations_hourly_limit = operations_hourly_limit
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
        self._returns: dict[tuple[int, int], str] = {}
        self._failing: set[tuple[int, int]] = set()  # returns whose cancellation fails
        self._cancelling: set[tuple[int, int]] = set()  # returns with a cancellation in progress
        self._injected: deque[Fault | Canned] = deque()
        self._periods: dict[Counted, tuple[float, int]] = {}  # -> (end of period, requests used)
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
        shipment_status: str = _CANCELLABLE,
        cancellation_fails: bool = False,
    ) -> None:
        """Add returns to a store; with ``cancellation_fails`` their cancellation operations end ``FAILED``."""
        with self._lock:
            for return_id in return_ids:
                self._returns[campaign_id, return_id] = shipment_status
                if cancellation_fails:
                    self._failing.add((campaign_id, return_id))
                else:
                    self._failing.discard((campaign_id, return_id))

    def shipment_status(self, campaign_id: int, return_id: int) -> str | None:
        with self._lock:
            self._settle()
            return self._returns.get((campaign_id, return_id))

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
        """The most cancelReturn requests this store ever had in flight at once, over the limit or not."""
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
        counted = self._admit(method, path, headers)
        if len(counted) == 3:
            self._wait()
            return counted
        with self._lock:
            self._in_flight[counted] += 1
            in_flight = self._in_flight[counted]
            self._max_in_flight[counted] = max(self._max_in_flight[counted], in_flight)
        try:
            self._wait()
            refusal = self._over_limit(counted, in_flight)
            if refusal is not None:
                return refusal
            if counted[0] == "campaign":
                return self._cancel(counted[1], headers, body)
            return self._get_operations(counted[1], headers, body)
        finally:
            with self._lock:
                self._in_flight[counted] -= 1

    def _wait(self) -> None:
        if self.latency > 0:  # no sleep(0): on a busy machine it gives the CPU away
            time.sleep(self.latency)

    def _admit(self, method: str, path: str, headers: Message) -> Counted | Answer:
        """Whose limits a request counts against, or the refusal of a request that never reaches them."""
        routed = _route(path)
        if routed is None:
            return self._error(404, "NOT_FOUND", f"Method {path[:100]} not found", None)
        kind, raw_id, bounds = routed
        if method != _ALLOWED:
            status, answer_headers, content = self._error(
                405, "METHOD_NOT_ALLOWED", f"Method {method[:20]} not allowed", None
            )
            return status, {**answer_headers, "Allow": _ALLOWED}, content
        key = headers.get("Api-Key")
        if key is None:
            return self._error(401, "UNAUTHORIZED", "Missing Api-Key header or OAuth token", None)
        if not hmac.compare_digest(key.encode(), self._api_key.encode()):
            return self._error(403, "FORBIDDEN", f"Access denied to {kind} {raw_id[:40]}", None)
        number = _int_within(raw_id, bounds)
        if number is None:
            name = "campaignId" if kind == "campaign" else "businessId"
            return self._error(400, "BAD_REQUEST", f"Invalid {name}: {raw_id[:40]}", None)
        return kind, number

    def _over_limit(self, counted: Counted, in_flight: int) -> Answer | None:
        kind, number = counted
        if in_flight > self.parallel_limit:
            message = f"Hit rate limit of {self.parallel_limit} parallel requests for {kind}Id {number}"
            return self._error(420, "HIT_RATE_LIMIT", message, counted)
        if not self._spend_one(counted):
            message = f"Hit rate limit of {self._limit(counted)} requests per hour for {kind}Id {number}"
            return self._error(420, "HIT_RATE_LIMIT", message, counted)
        return None

    def _cancel(self, campaign_id: int, headers: Message, body: bytes) -> Answer:
        counted = ("campaign", campaign_id)
        document = _json_object(headers, body)
        return_id = _checked(document.get("returnId"), RETURN_ID_BOUNDS) if document is not None else None
        if return_id is None:
            return self._error(400, "BAD_REQUEST", "Invalid returnId", counted)
        operation = None
        key = (campaign_id, return_id)
        with self._lock:
            self._settle()
            status = self._returns.get(key)
            if status == _CANCELLABLE and key not in self._cancelling:
                operation = StartedOperation(str(uuid.uuid4()), campaign_id, return_id, self.business_of(campaign_id))
                self._book.start(operation, time.monotonic() + self.operation_delay, fails=key in self._failing)
                self._cancelling.add(key)
                self._settle()  # with no delay, the cancellation is applied at once
        if status is None:
            return self._error(400, "BAD_REQUEST", f"Return {return_id} not found", counted)
        if operation is None:
            why = (
                "a cancellation is in progress"
                if status == _CANCELLABLE
                else f"its shipmentStatus is {status}, not CREATED"
            )
            return self._error(400, "BAD_REQUEST", f"Return {return_id} can't be cancelled: {why}", counted)
        result = {"operation": {"id": operation.id, "type": "RETURN_CANCELLATION"}}
        return 200, self._headers(counted), _json({"status": "OK", "result": result})

    def _get_operations(self, business_id: int, headers: Message, body: bytes) -> Answer:
        counted = ("business", business_id)
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

    def _settle(self) -> None:
        """Apply the cancellations whose operations have ended; the caller holds the lock."""
        for operation, status in self._book.settle(time.monotonic()):
            key = (operation.campaign_id, operation.return_id)
            self._cancelling.discard(key)
            if status == DONE:
                self._returns[key] = "CANCELLED"

    def _limit(self, counted: Counted) -> int:
        return self.hourly_limit if counted[0] == "campaign" else self.operations_hourly_limit

    def _spend_one(self, counted: Counted) -> bool:
        """Count a request against its period; False when the period has none left."""
        with self._lock:
            end, used = self._period(counted)
            if used >= self._limit(counted):
                return False
            self._periods[counted] = (end, used + 1)
            return True

    def _error(self, status: int, code: str, message: str, counted: Counted | None) -> Answer:
        body = {"status": "ERROR", "errors": [{"code": code, "message": message}]}
        return status, self._headers(counted), _json(body)

    def _headers(self, counted: Counted | None) -> dict[str, str]:
        limit = self.hourly_limit if counted is None else self._limit(counted)
        with self._lock:
            end, used = self._period(counted) if counted is not None else self._fresh_period()
        return {
            "Content-Type": "application/json",
            LIMIT_HEADER: str(limit),
            REMAINING_HEADER: str(max(limit - used, 0)),
            UNTIL_HEADER: formatdate(end, usegmt=True),
        }

    def _period(self, counted: Counted) -> tuple[float, int]:
        """The current period of a store or business; the caller holds the lock."""
        end, used = self._periods.get(counted, (0.0, 0))
        if time.time() >= end:
            end, used = self._fresh_period()
            self._periods[counted] = (end, used)
        return end, used

    def _fresh_period(self) -> tuple[float, int]:
        # Periods end on a whole second, as the one-second resolution of X-RateLimit-Resource-Until says.
        return float(math.ceil(time.time() + self.limit_period)), 0


def _int_within(text: str, bounds: tuple[int, int]) -> int | None:
    if not re.fullmatch(r"-?[0-9]{1,20}", text):
        return None
    return _checked(int(text), bounds)


def _route(path: str) -> tuple[str, str, tuple[int, int]] | None:
    """Whose limits a request to ``path`` counts against: the kind, the raw id, and its bounds."""
    for kind, route, bounds in (
        ("campaign", _CANCEL, CAMPAIGN_ID_BOUNDS),
        ("business", _OPERATIONS, BUSINESS_ID_BOUNDS),
    ):
        match = route.match(path)
        if match is not None:
            return kind, match["id"], bounds
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
