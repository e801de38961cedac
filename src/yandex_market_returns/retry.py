"""When a failed request is tried again, and how long the client waits first."""

import logging
import random
import time

from attrs import frozen

from . import errors

logger = logging.getLogger("yandex_market_returns")

_MAX_BACKOFF = 30.0
# Worth another try: the Market's limits, its failures, and answers lost on the way.
_RETRYABLE = (errors.RateLimitError, errors.ServerError, errors.ConnectionError, errors.TimeoutError)


@frozen
class RetryPolicy:
    max_retries: int
    budget: float  # seconds, from a call's first request
    backoff: float  # seconds, the first retry's base delay; it doubles with each retry

    def begin(self, call: str) -> "Attempts":
        return Attempts(self, call)


class Attempts:
    """One call's tries, kept within ``max_retries`` and the time budget."""

    def __init__(self, policy: RetryPolicy, call: str) -> None:
        self._policy = policy
        self._call = call
        self._retries = 0
        self._deadline: float | None = None

    def hold(self, gate_wait: float) -> float:
        """How long to wait before sending while the store's hourly limit is spent.

        Not at all when the period outlasts the budget: the request goes out and the Market's 420 ends
        the call at once, instead of a wait that could not end in success.
        """
        if gate_wait <= 0 or time.monotonic() + gate_wait > self._budget_end():
            return 0.0
        logger.info("%s: waiting %.2f s for the hourly limit to reset", self._call, gate_wait)
        return gate_wait

    def retry_delay(self, error: errors.MarketError) -> float | None:
        """Seconds to wait before the next try, or ``None`` when ``error`` ends the call."""
        if not isinstance(error, _RETRYABLE) or self._retries >= self._policy.max_retries:
            return None
        delay = self._delay(error)
        if time.monotonic() + delay > self._budget_end():
            logger.info("%s: not retrying, a wait of %.2f s would pass the retry budget: %s", self._call, delay, error)
            return None
        self._retries += 1
        logger.info(
            "%s: retry %d of %d in %.2f s after %s: %s",
            self._call,
            self._retries,
            self._policy.max_retries,
            delay,
            type(error).__name__,
            error,
        )
        return delay

    def _delay(self, error: errors.MarketError) -> float:
        if isinstance(error, errors.ResponseError) and error.rate_limit.exhausted and error.rate_limit.until:
            until = error.rate_limit.until.timestamp() - time.time()
            return max(until, 0.0) + random.uniform(0, self._policy.backoff)
        ceiling = min(self._policy.backoff * 2.0**self._retries, _MAX_BACKOFF)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _budget_end(self) -> float:
        if self._deadline is None:
            self._deadline = time.monotonic() + self._policy.budget
        return self._deadline
