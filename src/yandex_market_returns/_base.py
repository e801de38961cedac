"""What the sync and the async client share: checked settings, the generated client, the hourly gate, and
the requests of every method."""

import os
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

import attrs
import httpx

from . import errors
from ._confirmations import Confirmations, Round
from ._constants import BACKOFF, MAX_PAGES, MAX_RETRIES, MAX_SECONDS, MOST_RETRIES, RETRY_BUDGET, TIMEOUT
from ._generated import AuthenticatedClient, cancel_return, get_operations, get_return, get_returns, models
from ._generated import types as generated_types
from ._journal import Journal
from ._rate_limit import RateLimit
from ._redaction import Redactor
from ._responses import (
    Answer,
    Page,
    interpret,
    operation_statuses,
    return_record,
    returns_page,
    started_operation,
    transport_error,
)
from ._results import Operation, OperationResult, Outcome, ReturnRecord
from ._retry import Attempts, RetryPolicy
from ._runs import Batch, Run, journal_of
from ._settling import Settlement
from ._validation import (
    BUSINESS_ID_BOUNDS,
    CAMPAIGN_ID_BOUNDS,
    DEFAULT_BASE_URL,
    ORDER_ID_BOUNDS,
    PAGE_LIMIT_BOUNDS,
    RETURN_ID_BOUNDS,
    RETURN_RECORD_ID_BOUNDS,
    SPEC_VERSION,
    check_api_key,
    check_base_url,
    check_callback,
    check_count,
    check_date,
    check_id,
    check_number,
    check_operation_ids,
    check_operation_type,
    check_order_ids,
    check_return_ids,
    check_shipment_statuses,
    check_timeout,
)
from .limits import Gate, InProcessLimits, Key, Limits, check_limits

API_KEY_VARIABLE = "YANDEX_MARKET_API_KEY"


Transport = TypeVar("Transport", httpx.BaseTransport, httpx.AsyncBaseTransport)
Result = TypeVar("Result")
Statuses = tuple[list[OperationResult], RateLimit]
_CANCELLED = [models.ReturnShipmentStatusType.CANCELLED]
_CREATED = [models.ReturnShipmentStatusType.CREATED]


class Endpoint(Protocol):
    """A generated endpoint module (``cancel_return``, ``get_operations``, ``get_return``, ``get_returns``),
    called with the path's ids and the body or query as keywords."""

    def sync_detailed(self, *args: Any, **kwargs: Any) -> generated_types.Response[Any]: ...

    async def asyncio_detailed(self, *args: Any, **kwargs: Any) -> generated_types.Response[Any]: ...


class Request(NamedTuple, Generic[Result]):
    """One method call, as both clients send, retry and pace it (a named tuple: one is made per call)."""

    key: Key  # whose slots it counts against: the store's (or the business's), across its methods
    gate: Key  # whose hourly limit it spends: each method has its own (see limits.Key)
    call: str  # how messages name it
    endpoint: Endpoint
    path: tuple[int, ...]  # the path's ids, in order
    arguments: Mapping[str, Any]  # the generated endpoint's keywords: the body, or the query
    parse: Callable[[Answer, RateLimit], Result | str]  # a 200's body made into the result
    effect: str | None  # what it may start, for errors to say; None for a read


def cancel_request(campaign_id: int, return_id: int) -> Request[Operation]:
    campaign_id = check_id("campaign_id", campaign_id, CAMPAIGN_ID_BOUNDS)
    return_id = check_id("return_id", return_id, RETURN_ID_BOUNDS)
    call = f"cancelReturn(campaign {campaign_id}, return {return_id})"
    store = ("campaign", campaign_id)
    body = {"body": models.CancelReturnRequest(return_id=return_id)}
    return Request(store, store, call, cancel_return, (campaign_id,), body, started_operation, "the cancellation")


def statuses_request(
    business_id: int, operation_ids: Sequence[str], operation_type: models.OperationType
) -> Request[Statuses]:
    """getOperations for checked, unique ids (at most 100)."""
    count = f"{len(operation_ids)} operation{'s' if len(operation_ids) > 1 else ''}"
    call = f"getOperations(business {business_id}, {count})"
    body = {"body": models.GetOperationsRequest(operation_type=operation_type, operation_ids=list(operation_ids))}
    business = ("business", business_id)
    return Request(business, business, call, get_operations, (business_id,), body, operation_statuses, None)


def return_request(campaign_id: int, order_id: int, return_id: int) -> Request[ReturnRecord]:
    """getReturn: it shares the store's slots with cancelReturn, and spends an hourly limit of its own."""
    campaign_id = check_id("campaign_id", campaign_id, CAMPAIGN_ID_BOUNDS)
    order_id = check_id("order_id", order_id, ORDER_ID_BOUNDS)
    return_id = check_id("return_id", return_id, RETURN_RECORD_ID_BOUNDS)
    call = f"getReturn(campaign {campaign_id}, order {order_id}, return {return_id})"
    path = (campaign_id, order_id, return_id)
    return Request(
        ("campaign", campaign_id), ("getReturn", campaign_id), call, get_return, path, {}, return_record, None
    )


class Look:
    """One look at the records a settlement waits for, one request after another: getReturn of each return
    whose order is known, then, for the others, getReturns' pages of (the first time) the store's ``CREATED``
    returns and of its ``CANCELLED`` ones, each made as it is reached."""

    def __init__(
        self,
        campaign_id: int,
        settlement: Settlement,
        created: Callable[[], "ReturnPages"] | None,
        cancelled: Callable[[], "ReturnPages"],
    ) -> None:
        self._campaign_id = campaign_id
        self._settlement = settlement
        self._by_order = settlement.by_order()
        self._to_read = [pages for pages in (created, cancelled) if pages is not None]
        self._reads_created = created is not None
        self._read: list[ReturnPages] = []
        self._records: list[ReturnRecord] = []

    @property
    def records(self) -> list[ReturnRecord]:
        return [*self._records, *(record for pages in self._read for record in pages.records)]

    @property
    def created_read(self) -> bool:
        """Whether every page of the store's CREATED returns was read (they come first)."""
        return self._reads_created and bool(self._read) and self._read[0].done

    def request(self) -> Request[Any] | None:
        """The next request; ``None`` once the look is done."""
        if self._by_order:
            return_id, order_id = self._by_order[0]
            return return_request(self._campaign_id, order_id, return_id)
        if not self._read and not self._settlement.scan_needed():
            return None
        while True:
            request = self._read[-1].request() if self._read else None
            if request is not None or not self._to_read:
                return request
            self._read.append(self._to_read.pop(0)())

    def answered(self, result: Any) -> None:
        if self._by_order:
            self._by_order.pop(0)
            self._records.append(result)
        else:
            self._read[-1].answered(result)

    def not_found(self, error: errors.NotFoundError) -> None:
        """A 404. From getReturn: no such return in that order, so the order given was wrong, and the return is
        looked up among the store's. From getReturns: the store's returns could not be read (``error``)."""
        if not self._by_order:
            raise error
        return_id, _ = self._by_order.pop(0)
        self._settlement.not_in_order(return_id)

    def ended(
        self, error: errors.MarketError | None = None
    ) -> tuple[list[tuple[int, Outcome]], list[tuple[int, Outcome]]]:
        """What the look settles (see ``Settlement.looked``), ended by ``error`` if it failed: the records read
        before it count, the store's CREATED ones too once all their pages were in."""
        return self._settlement.looked(self.records, error, created_read=self.created_read)


class ReturnPages:
    """getReturns' pages, one request after another: what to ask for next, and the records so far. A page's
    answer that gives a token already given, or a token past ``MAX_PAGES`` pages, is a garbled answer
    (``UnexpectedResponseError``): the pages would never end."""

    def __init__(self, campaign_id: int, query: Mapping[str, Any]) -> None:
        self._campaign_id = campaign_id
        self._query = query  # the generated endpoint's keywords for the filters
        self._token: str | None = None
        self._seen: set[str] = set()
        self._pages = 0
        self._done = False
        self.records: list[ReturnRecord] = []

    @property
    def done(self) -> bool:
        """Whether the last page is in."""
        return self._done

    def request(self) -> Request[Page] | None:
        """The next page's request; ``None`` once the last page is in."""
        if self._done:
            return None
        call = f"getReturns(campaign {self._campaign_id}, page {self._pages + 1})"
        arguments = {**self._query, "limit": PAGE_LIMIT_BOUNDS[1]}
        if self._token is not None:
            arguments["page_token"] = self._token
        store = ("campaign", self._campaign_id)
        gate = ("getReturns", self._campaign_id)
        return Request(store, gate, call, get_returns, (self._campaign_id,), arguments, self._parse, None)

    def answered(self, page: Page) -> None:
        records, self._token = page
        self.records += records
        self._pages += 1
        if self._token is None:
            self._done = True
        else:
            self._seen.add(self._token)

    def _parse(self, answer: Answer, rate_limit: RateLimit) -> Page | str:
        page = returns_page(answer, rate_limit)
        if isinstance(page, str) or page[1] is None:
            return page
        if page[1] in self._seen:
            return "a nextPageToken given before: the pages would never end"
        if self._pages + 1 >= MAX_PAGES:
            return f"a nextPageToken after {MAX_PAGES} pages: narrow the dates or statuses"
        return page


class ClientBase(Generic[Transport]):
    """Options, all keyword-only:

    - ``api_key``: the Api-Key token; ``YANDEX_MARKET_API_KEY`` when not given. Never shown anywhere.
    - ``base_url``: the Market's API, or a fake one in tests (plain ``http`` only on a loopback host).
    - ``timeout``: seconds for each request (or an ``httpx.Timeout``), at most a day.
    - ``max_retries``: tries after the first for 420, 5xx and lost connections; 0 disables retries.
    - ``retry_budget``: seconds from a call's first request after which it is not retried any more.
    - ``backoff``: seconds before the first retry; it doubles with each retry (with jitter).
    - ``grace_period``: seconds a store's slot stays taken after a request timed out or was abandoned,
      since the Market may still be working on it; the request's read timeout when not given.
    - ``transport``: an httpx transport, to route or mock requests.
    - ``limits``: where the Market's limits are kept (``yandex_market_returns.limits``): this client's own
      by default; an ``InProcessLimits`` shared by clients of one process, or a ``RedisLimits`` shared by
      every process that uses the same Redis.
    """

    _gate: Gate  # the hourly gate of this client's kind (threads or tasks), set when it opens

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | httpx.Timeout = TIMEOUT,
        max_retries: int = MAX_RETRIES,
        retry_budget: float = RETRY_BUDGET,
        backoff: float = BACKOFF,
        grace_period: float | None = None,
        transport: Transport | None = None,
        limits: Limits | None = None,
    ) -> None:
        key = check_api_key(os.environ.get(API_KEY_VARIABLE, "") if api_key is None else api_key)
        self._base_url = check_base_url(base_url)
        checked_timeout = check_timeout(timeout)
        self._policy = RetryPolicy(
            max_retries=check_count("max_retries", max_retries, maximum=MOST_RETRIES),
            budget=check_number("retry_budget", retry_budget, minimum=0, maximum=MAX_SECONDS),
            backoff=check_number("backoff", backoff, minimum=0, maximum=MAX_SECONDS),
        )
        self._grace_period = (
            checked_timeout.read or 0.0
            if grace_period is None
            else check_number("grace_period", grace_period, minimum=0, maximum=MAX_SECONDS)
        )
        # The whole of a request, not just each phase of it, ends within the longest of its timeouts.
        self._request_seconds = max(
            limit for limit in (checked_timeout.connect, checked_timeout.read, checked_timeout.write) if limit
        )
        self._limits = InProcessLimits() if limits is None else check_limits(limits)
        self._redactor = Redactor(key)

        def generated(transport: Transport | None) -> AuthenticatedClient:
            return AuthenticatedClient(
                base_url=self._base_url,
                token=key,
                timeout=checked_timeout,
                headers={"User-Agent": f"yandex-market-returns-client/{SPEC_VERSION} python-httpx/{httpx.__version__}"},
                follow_redirects=False,  # a redirect would carry the key to wherever it points
                httpx_args={} if transport is None else {"transport": transport},
            )

        self._made = generated(self._bounded(transport))
        self._open()
        # Its connections are this process's: an answer read in a child forked with it (gunicorn --preload,
        # Celery prefork) on one the parent also uses could be another request's. The child makes a pool of
        # its own when it first sends, or, when the transport was given (its pool is the parent's), the
        # client is closed there.
        self._pid = os.getpid()
        self._remake = None if transport is not None else lambda: generated(self._bounded(None))
        _CLIENTS.add(self)

    @property
    def _generated(self) -> AuthenticatedClient:
        """The generated client, with a connection pool of this process's own."""
        if self._pid != os.getpid():
            if self._remake is None:
                raise self._closed_error()
            self._made, self._pid = self._remake(), os.getpid()
        return self._made

    def _open(self) -> None:
        """Make what the subclass's calls need: its slots for requests in flight, its stop signals."""
        raise NotImplementedError

    def _forked(self) -> None:
        """In a child forked with this client: drop what was the parent's (its running batches, the threads
        closing it), touching nothing it shares with it; closed, when its transport was given."""
        raise NotImplementedError

    def _forked_from(self) -> int | None:
        """The process this client was opened in, when it is not this one."""
        return None if self._pid == os.getpid() else self._pid

    def _bounded(self, transport: Transport | None) -> Transport | None:
        """The transport to send with, made to end a request within ``_request_seconds`` where it must."""
        return transport

    def __repr__(self) -> str:
        # vars(): a client whose __init__ failed has no _base_url, and a traceback with locals reprs it.
        base_url = vars(self).get("_base_url")
        return f"{type(self).__name__}({'not set up' if base_url is None else f'base_url={base_url!r}'})"

    def _closed_error(self) -> errors.ClientClosedError:
        parent = self._forked_from()
        if parent is not None:
            return errors.ClientClosedError(
                f"this {type(self).__name__} was opened in process {parent}, which this one was forked from, with "
                "a transport of yours: its connections are that process's; make a new one in this process"
            )
        return errors.ClientClosedError(f"this {type(self).__name__} is closed: make a new one to send requests")

    def _check_statuses(
        self, business_id: object, operation_ids: object, operation_type: object
    ) -> tuple[int, list[str], models.OperationType]:
        checked_business = check_id("business_id", business_id, BUSINESS_ID_BOUNDS)
        ids = check_operation_ids(operation_ids)
        return checked_business, ids, models.OperationType(check_operation_type(operation_type))

    def _return_pages(
        self, campaign_id: object, shipment_statuses: object, from_date: object, to_date: object
    ) -> ReturnPages:
        """getReturns' pages, every argument checked before the first request."""
        campaign = check_id("campaign_id", campaign_id, CAMPAIGN_ID_BOUNDS)
        statuses = check_shipment_statuses(shipment_statuses)
        first, last = check_date("from_date", from_date), check_date("to_date", to_date)
        if first is not None and last is not None and first > last:
            raise ValueError(f"from_date must not be after to_date, got {first} and {last}")
        query: dict[str, Any] = {}
        if statuses is not None:
            query["shipment_statuses"] = [models.ReturnShipmentStatusType(status) for status in statuses]
        dates: dict[str, date | None] = {"fromDate": first, "toDate": last}  # the generated endpoint's names
        query.update((name, day) for name, day in dates.items() if day is not None)
        return ReturnPages(campaign, query)

    def _check_wait(self, timeout: object, poll_interval: object, timeout_name: str = "timeout") -> tuple[float, float]:
        return (
            check_number(timeout_name, timeout, minimum=0, maximum=MAX_SECONDS),
            check_number("poll_interval", poll_interval, minimum=0.01, maximum=MAX_SECONDS),
        )

    def _batch(
        self,
        campaign_id: object,
        return_ids: object,
        business_id: object,
        on_outcome: Callable[[Outcome], None] | None,
        confirm_timeout: object,
        poll_interval: object,
        journal: Journal | str | os.PathLike[str] | None,
        order_ids: object,
    ) -> tuple[Batch, tuple[int, Confirmations] | None]:
        """A ``cancel_returns`` call's bookkeeping, every argument checked before any request; with the business
        and what confirms its cancellations, when it is given one."""
        campaign = check_id("campaign_id", campaign_id, CAMPAIGN_ID_BOUNDS)
        ids = check_return_ids(return_ids)
        check_callback("on_outcome", on_outcome)
        timeout, interval = self._check_wait(confirm_timeout, poll_interval, "confirm_timeout")
        settlement = Settlement(timeout, interval, datetime.now(UTC), check_order_ids(order_ids))
        confirming = None
        if business_id is not None:
            confirming = (check_id("business_id", business_id, BUSINESS_ID_BOUNDS), Confirmations(timeout, interval))
        run = Run(campaign, ids, journal_of(journal))
        return Batch(run, None if confirming is None else confirming[1], settlement, on_outcome), confirming

    def _look(self, campaign_id: int, settlement: Settlement) -> "Look":
        """The look a settlement asks for now: (the first time) the store's CREATED returns, then its CANCELLED
        ones. In that order a return cancelled between the two reads is in both, and CANCELLED wins; the other
        way round it would be in neither, and taken for one the Market cannot cancel."""

        def created() -> ReturnPages:
            return self._return_pages(campaign_id, _CREATED, None, None)

        def cancelled() -> ReturnPages:
            return self._return_pages(campaign_id, _CANCELLED, settlement.from_date(), None)

        return Look(campaign_id, settlement, created if settlement.created_needed() else None, cancelled)

    def _attempts(self, request: Request[Any], seconds: float | None) -> Attempts:
        """A call's attempts; retried for at most ``seconds`` when given (a wait's time left)."""
        if seconds is None or seconds >= self._policy.budget:
            return self._policy.begin(request.call)
        return attrs.evolve(self._policy, budget=max(seconds, 0.0)).begin(request.call)

    def _after_round(self, polled: Round, closed: bool) -> None:
        """Raise what ends a wait: the client closed, or the Market refused a poll."""
        if polled.error is None:
            return
        if closed:
            raise self._closed_error() from polled.error
        if not polled.worth_polling_again():
            raise polled.error

    def _held(self, business_id: int) -> float:
        """Seconds until the business's spent hourly limit for getOperations resets; 0 when it is not spent."""
        held = self._gate.held(("business", business_id))
        return 0.0 if held is None else held[0]

    def _gate_wait(self, request: Request[Any], attempts: Attempts) -> float:
        """Seconds to wait for the hourly period to end before sending. Ends the call at once, without
        sending, when the period ends after its budget: until then the Market would only answer 420."""
        held = self._gate.held(request.gate)
        if held is None:
            return 0.0
        wait, rate_limit = held
        if wait <= attempts.remaining():
            attempts.start_clock()  # the wait counts against the budget: the call ends within it all the same
            return wait
        whose = "store" if request.key[0] == "campaign" else "business"
        message = (
            f"{request.call}: not sent: the {whose}'s hourly limit is spent until {rate_limit.until}, "
            f"{wait:.0f} s from now, after the retry budget"
        )
        refused = errors.RateLimitError(message, response=None, errors=[], rate_limit=rate_limit)
        refused.retry_after = wait
        raise attempts.end(refused)

    def _settle(
        self, request: Request[Result], answer: Answer, sent_at: float, cause: BaseException | None = None
    ) -> Result | errors.ResponseError:
        """Interpret an answer and note the rate-limit state from it."""
        rate_limit = RateLimit.from_headers(answer.headers)
        result = interpret(answer, request.call, self._redactor, request.parse, request.effect, rate_limit)
        if isinstance(result, errors.ResponseError) and cause is not None:
            result.__cause__ = self._redactor.exception(cause)
        self._gate.observe(request.gate, rate_limit, sent_at)
        return result

    def _lost(self, error: httpx.RequestError, request: Request[Any]) -> errors.TransportError:
        return transport_error(error, request.call, self._redactor, request.effect)

    def _slot_grace(self, result: object, sent_at: float | None) -> float:
        """How long a store's slot stays taken after a request: the Market may still be working on one that
        timed out, or that was given up (an exception, a cancelled task: no result) as long as if it had
        timed out."""
        if result is None:
            return 0.0 if sent_at is None else sent_at + self._request_seconds + self._grace_period - time.monotonic()
        return self._grace_period if isinstance(result, errors.TimeoutError) and result.may_have_started else 0.0

    def _retry_wait(self, request: Request[Any], attempts: Attempts, result: errors.MarketError) -> float | None:
        held = self._gate.held(request.gate)
        return attempts.failed(result, 0.0 if held is None else held[0])


# Every client of this process, for a child forked with them: one handler for all, none kept alive by it.
_CLIENTS: "weakref.WeakSet[ClientBase[Any]]" = weakref.WeakSet()


def _forked_all() -> None:
    for client in list(_CLIENTS):
        client._forked()


os.register_at_fork(after_in_child=_forked_all)
