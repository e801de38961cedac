"""What the sync and the async client share: checked settings, the generated client, the hourly gate."""

import os
from typing import Generic, TypeVar

import httpx

from yandex_market_returns_client import AuthenticatedClient
from yandex_market_returns_client.models import CancelReturnRequest

from . import errors
from .pacing import HourlyGate
from .responses import Answer, interpret, transport_error
from .results import Operation
from .retry import RetryPolicy
from .validation import (
    CAMPAIGN_ID_BOUNDS,
    DEFAULT_BASE_URL,
    RETURN_ID_BOUNDS,
    SPEC_VERSION,
    check_api_key,
    check_base_url,
    check_count,
    check_id,
    check_number,
)

API_KEY_VARIABLE = "YANDEX_MARKET_API_KEY"
# What stands for the key wherever it would otherwise show.
KEY_PLACEHOLDER = "<API-KEY>"


Transport = TypeVar("Transport", httpx.BaseTransport, httpx.AsyncBaseTransport)


class ClientBase(Generic[Transport]):
    """Options, all keyword-only:

    - ``api_key``: the Api-Key token; ``YANDEX_MARKET_API_KEY`` when not given. Never shown anywhere.
    - ``base_url``: the Market's API, or a fake one in tests.
    - ``timeout``: seconds for each request (or an ``httpx.Timeout``).
    - ``max_retries``: tries after the first for 420, 5xx and lost connections; 0 disables retries.
    - ``retry_budget``: seconds from a call's first request after which it is not retried any more.
    - ``backoff``: seconds before the first retry; it doubles with each retry (with jitter).
    - ``transport``: an httpx transport, to route or mock requests.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | httpx.Timeout = 30.0,
        max_retries: int = 3,
        retry_budget: float = 60.0,
        backoff: float = 0.5,
        transport: Transport | None = None,
    ) -> None:
        key = check_api_key(os.environ.get(API_KEY_VARIABLE, "") if api_key is None else api_key)
        self._base_url = check_base_url(base_url)
        if not isinstance(timeout, httpx.Timeout):
            check_number("timeout", timeout, minimum=0.001)
        self._policy = RetryPolicy(
            max_retries=check_count("max_retries", max_retries),
            budget=check_number("retry_budget", retry_budget, minimum=0),
            backoff=check_number("backoff", backoff, minimum=0),
        )
        self._gate = HourlyGate()
        self._generated = AuthenticatedClient(
            base_url=self._base_url,
            token=key,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            headers={"User-Agent": f"yandex-market-returns-client/{SPEC_VERSION} python-httpx/{httpx.__version__}"},
            httpx_args={} if transport is None else {"transport": transport},
        )
        self._open()

    def _open(self) -> None:
        """Make what the subclass's calls need: its slots for requests in flight."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    def _prepare(self, campaign_id: int, return_id: int) -> tuple[CancelReturnRequest, str]:
        campaign_id = check_id("campaign_id", campaign_id, CAMPAIGN_ID_BOUNDS)
        return_id = check_id("return_id", return_id, RETURN_ID_BOUNDS)
        return CancelReturnRequest(return_id=return_id), f"cancelReturn(campaign {campaign_id}, return {return_id})"

    def _settle(
        self, campaign_id: int, answer: Answer, call: str, cause: BaseException | None = None
    ) -> Operation | errors.ResponseError:
        """Interpret an answer and note the store's rate-limit state from it."""
        result = interpret(answer, call, self._redact)
        if isinstance(result, errors.ResponseError):
            result.__cause__ = cause
        self._gate.observe(campaign_id, result.rate_limit)
        return result

    def _lost(self, error: httpx.RequestError, call: str) -> errors.TransportError:
        lost = transport_error(error, call, self._redact)
        lost.__cause__ = error
        return lost

    def _redact(self, text: str) -> str:
        return text.replace(self._generated.token, KEY_PLACEHOLDER)
