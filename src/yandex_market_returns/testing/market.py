"""The fake Market: cancelReturn's rules, limits and faults, behind a real HTTP server on loopback."""

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
from collections.abc import Iterable
from email.message import Message
from email.utils import formatdate
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from ..rate_limit import LIMIT_HEADER, REMAINING_HEADER, UNTIL_HEADER
from ..redaction import KEY_PLACEHOLDER
from ..validation import CAMPAIGN_ID_BOUNDS, RETURN_ID_BOUNDS, check_id
from .exchanges import Exchange, StartedOperation
from .faults import Canned, Fault
from .handler import MarketServer

_PATH = re.compile(r"^/v1/campaigns/(?P<campaign_id>[^/?#]*)/returns/cancel$")
_CANCELLABLE = "CREATED"

Answer = tuple[int, dict[str, str], bytes]


class FakeMarket:
    """A local stand-in for the Market's cancelReturn, on 127.0.0.1 and a free port::

        with FakeMarket() as market:
            market.add_returns(21621656, 97211)
            client = ReturnsClient(api_key=market.api_key, base_url=market.base_url)

    It checks the key (401 without, 403 with a wrong one), the path and the body (400), cancels only
    returns whose shipment status is ``CREATED`` (400 otherwise, and for unknown ids), answers 420 past
    ``parallel_limit`` requests in flight per store or ``hourly_limit`` requests per ``limit_period``
    seconds, and puts the three rate-limit headers on every answer of its own. Faults come from
    ``inject()`` (in order; canned answers too) or at random at ``fault_rate``.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        hourly_limit: int = 5000,
        limit_period: float = 3600.0,
        parallel_limit: int = 4,
        latency: float = 0.0,
        slow_answer_delay: float = 1.0,
        fault_rate: float = 0.0,
        faults: Iterable[Fault] = tuple(Fault),
        seed: int | None = None,
    ) -> None:
        self._api_key = api_key if api_key is not None else secrets.token_urlsafe(24)
        self.hourly_limit = hourly_limit
        self.limit_period = limit_period
        self.parallel_limit = parallel_limit
        self.latency = latency
        self.slow_answer_delay = slow_answer_delay
        self.fault_rate = fault_rate
        self._random_faults = tuple(faults)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._returns: dict[tuple[int, int], str] = {}
        self._injected: deque[Fault | Canned] = deque()
        self._periods: dict[int, tuple[float, int]] = {}  # campaign -> (end of period, requests used)
        self._in_flight: Counter[int] = Counter()
        self._max_in_flight: Counter[int] = Counter()
        self._exchanges: list[Exchange] = []
        self._operations: list[StartedOperation] = []
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

    def add_returns(self, campaign_id: int, *return_ids: int, shipment_status: str = _CANCELLABLE) -> None:
        with self._lock:
            for return_id in return_ids:
                self._returns[campaign_id, return_id] = shipment_status

    def shipment_status(self, campaign_id: int, return_id: int) -> str | None:
        with self._lock:
            return self._returns.get((campaign_id, return_id))

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
        with self._lock:
            return list(self._operations)

    def max_in_flight(self, campaign_id: int) -> int:
        """The most requests this store ever had in flight at once, over the limit or not."""
        with self._lock:
            return self._max_in_flight[campaign_id]

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
        if fault is Fault.SERVER_ERROR:
            return self._error(500, "INTERNAL_ERROR", "Internal server error", None)
        return 200, {"Content-Type": "application/json"}, _json({"status": "OK", "result": {"operation": {}}})

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    def redacted(self, headers: Message) -> dict[str, str]:
        return {name: KEY_PLACEHOLDER if name.lower() == "api-key" else value for name, value in headers.items()}

    def answer(self, method: str, path: str, headers: Message, body: bytes) -> Answer:
        """What the Market answers to one request, after ``latency`` seconds."""
        campaign_id = self._admit(method, path, headers)
        if not isinstance(campaign_id, int):
            time.sleep(self.latency)
            return campaign_id
        with self._lock:
            self._in_flight[campaign_id] += 1
            in_flight = self._in_flight[campaign_id]
            self._max_in_flight[campaign_id] = max(self._max_in_flight[campaign_id], in_flight)
        try:
            time.sleep(self.latency)
            return self._cancel(campaign_id, in_flight, headers, body)
        finally:
            with self._lock:
                self._in_flight[campaign_id] -= 1

    def _admit(self, method: str, path: str, headers: Message) -> int | Answer:
        """The store a request is for, or the refusal of a request that never reaches a store's limits."""
        match = _PATH.match(path)
        if match is None:
            return self._error(404, "NOT_FOUND", f"Method {path[:100]} not found", None)
        if method != "POST":
            return self._error(405, "METHOD_NOT_ALLOWED", f"Method {method} not allowed", None)
        key = headers.get("Api-Key")
        if key is None:
            return self._error(401, "UNAUTHORIZED", "Missing Api-Key header or OAuth token", None)
        raw_campaign = match["campaign_id"]
        if not hmac.compare_digest(key.encode(), self._api_key.encode()):
            return self._error(403, "FORBIDDEN", f"Access denied to campaign {raw_campaign[:40]}", None)
        campaign_id = _int_within(raw_campaign, CAMPAIGN_ID_BOUNDS)
        if campaign_id is None:
            return self._error(400, "BAD_REQUEST", f"Invalid campaignId: {raw_campaign[:40]}", None)
        return campaign_id

    def _cancel(self, campaign_id: int, in_flight: int, headers: Message, body: bytes) -> Answer:
        if in_flight > self.parallel_limit:
            message = f"Hit rate limit of {self.parallel_limit} parallel requests for campaignId {campaign_id}"
            return self._error(420, "HIT_RATE_LIMIT", message, campaign_id)
        if not self._spend_one(campaign_id):
            message = f"Hit rate limit of {self.hourly_limit} requests per hour for campaignId {campaign_id}"
            return self._error(420, "HIT_RATE_LIMIT", message, campaign_id)
        return_id = _return_id(headers, body)
        if return_id is None:
            return self._error(400, "BAD_REQUEST", "Invalid returnId", campaign_id)
        operation = None
        with self._lock:
            status = self._returns.get((campaign_id, return_id))
            if status == _CANCELLABLE:
                self._returns[campaign_id, return_id] = "CANCELLED"
                operation = StartedOperation(str(uuid.uuid4()), campaign_id, return_id)
                self._operations.append(operation)
        if status is None:
            return self._error(400, "BAD_REQUEST", f"Return {return_id} not found", campaign_id)
        if operation is None:
            message = f"Return {return_id} can't be cancelled: its shipmentStatus is {status}, not CREATED"
            return self._error(400, "BAD_REQUEST", message, campaign_id)
        result = {"operation": {"id": operation.id, "type": "RETURN_CANCELLATION"}}
        return 200, self._headers(campaign_id), _json({"status": "OK", "result": result})

    def _spend_one(self, campaign_id: int) -> bool:
        """Count a request against the store's period; False when the period has none left."""
        with self._lock:
            end, used = self._period(campaign_id)
            if used >= self.hourly_limit:
                return False
            self._periods[campaign_id] = (end, used + 1)
            return True

    def _error(self, status: int, code: str, message: str, campaign_id: int | None) -> Answer:
        body = {"status": "ERROR", "errors": [{"code": code, "message": message}]}
        return status, self._headers(campaign_id), _json(body)

    def _headers(self, campaign_id: int | None) -> dict[str, str]:
        with self._lock:
            end, used = self._period(campaign_id) if campaign_id is not None else self._fresh_period()
        return {
            "Content-Type": "application/json",
            LIMIT_HEADER: str(self.hourly_limit),
            REMAINING_HEADER: str(max(self.hourly_limit - used, 0)),
            UNTIL_HEADER: formatdate(end, usegmt=True),
        }

    def _period(self, campaign_id: int) -> tuple[float, int]:
        """The store's current period; the caller holds the lock."""
        end, used = self._periods.get(campaign_id, (0.0, 0))
        if time.time() >= end:
            end, used = self._fresh_period()
            self._periods[campaign_id] = (end, used)
        return end, used

    def _fresh_period(self) -> tuple[float, int]:
        # Periods end on a whole second, as the one-second resolution of X-RateLimit-Resource-Until says.
        return float(math.ceil(time.time() + self.limit_period)), 0


def _int_within(text: str, bounds: tuple[int, int]) -> int | None:
    if not re.fullmatch(r"-?[0-9]{1,20}", text):
        return None
    return _checked(int(text), bounds)


def _return_id(headers: Message, body: bytes) -> int | None:
    if not headers.get("Content-Type", "").startswith("application/json"):
        return None
    try:
        document: Any = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return _checked(document.get("returnId") if isinstance(document, dict) else None, bounds=RETURN_ID_BOUNDS)


def _checked(value: object, bounds: tuple[int, int]) -> int | None:
    """The client's own check, so that the two accept exactly the same ids."""
    try:
        return check_id("id", value, bounds)
    except (TypeError, ValueError):
        return None


def _json(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()
