"""When a failed request is tried again, how long the client waits first, and what a failed call reports."""

import logging
import random
import time
from collections.abc import Callable

from attrs import frozen

from . import errors
from ._constants import MAX_BACKOFF, MAX_OUTAGE_BACKOFF

logger = logging.getLogger("yandex_market_returns")


@frozen
class RetryPolicy:
    max_retries: int
    budget: float  # seconds, from a call's first request
    backoff: float  # seconds, the first retry's base delay; it doubles with each retry

    def begin(self, call: str, first_send: Callable[[], None] | None = None) -> "Attempts":
        return Attempts(self, call, first_send)


class Attempts:
    """One call's tries: kept within ``max_retries`` and the time budget, and remembered, so that the error
    the call ends in says what is known of all of them."""

    def __init__(self, policy: RetryPolicy, call: str, first_send: Callable[[], None] | None = None) -> None:
        self._policy = policy
        self._call = call
        self._first_send = first_send  # told once, just before the first request goes out (the journal)
        self._deadline: float | None = None
        self.errors: list[errors.MarketError] = []
        self.in_flight = False

    @property
    def deadline(self) -> float | None:
        """When the budget runs out (monotonic clock); ``None`` until the first request is sent."""
        return self._deadline

    def remaining(self) -> float:
        """Seconds left of the budget; all of it before the first request."""
        return self._policy.budget if self._deadline is None else self._deadline - time.monotonic()

    def start_clock(self) -> None:
        """The budget starts at the call's first request, or at its wait for the hourly limit before it."""
        if self._deadline is None:
            self._deadline = time.monotonic() + self._policy.budget

    def sending(self) -> None:
        if self._first_send is not None:
            first_send, self._first_send = self._first_send, None
            first_send()
        self.start_clock()
        self.in_flight = True

    def failed(self, error: errors.MarketError, gate_wait: float) -> float | None:
        """Note a failed attempt; seconds to wait before the next one, or ``None`` when ``error`` ends the call.

        ``gate_wait`` is how long the store's hourly limit still holds: a 420 saying the limit is spent is
        retried when the period ends, not after a backoff.
        """
        self.in_flight = False
        self.errors.append(error)
        if not error.retryable:
            return None
        if isinstance(error, errors.LimitsUnavailableError) and self._policy.max_retries:
            return self._outage(error)
        spent = isinstance(error, errors.RateLimitError) and error.rate_limit.exhausted and gate_wait > 0
        retries = sum(not isinstance(tried, errors.LimitsUnavailableError) for tried in self.errors[:-1])
        delay = gate_wait + random.uniform(0, self._policy.backoff) if spent else self._backoff(retries)
        error.retry_after = delay
        if retries >= self._policy.max_retries:
            return None
        if delay > self.remaining():
            logger.info("%s: not retrying, a wait of %.2f s would pass the retry budget: %s", self._call, delay, error)
            return None
        logger.info(
            "%s: retry %d of %d in %.2f s after %s: %s",
            self._call,
            retries + 1,
            self._policy.max_retries,
            delay,
            type(error).__name__,
            error,
        )
        return delay

    def _outage(self, error: errors.LimitsUnavailableError) -> float | None:
        """The shared limits could not be reached, so nothing was sent: asked again within the budget (whose
        clock the client started as this attempt failed), however often, not counted against
        ``max_retries``, and at least every second, so that a call goes on as soon as a failover ends."""
        outages = sum(isinstance(tried, errors.LimitsUnavailableError) for tried in self.errors) - 1
        delay = min(self._backoff(outages), MAX_OUTAGE_BACKOFF)
        error.retry_after = delay
        if delay > self.remaining():
            logger.info("%s: not asking again, a wait of %.2f s passes the retry budget: %s", self._call, delay, error)
            return None
        logger.info("%s: asking the shared limits again in %.2f s: %s", self._call, delay, error)
        return delay

    def abandoned(self) -> None:
        """The request in flight was given up (its task cancelled): the Market may carry it out all the same."""
        self.errors.append(self._abandoned())
        self.in_flight = False

    def outcome_so_far(self) -> errors.MarketError | None:
        """What the call would end in if it stopped now, a request in flight counted as abandoned; ``None``
        when nothing was sent. Changes nothing: the call may still finish."""
        tried = [*self.errors, *([self._abandoned()] if self.in_flight else [])]
        return _verdict(self._call, tried) if tried else None

    def _abandoned(self) -> errors.AbandonedRequestError:
        message = f"{self._call}: abandoned while the request was in flight; the cancellation may have started"
        return errors.AbandonedRequestError(message)

    def end(self, error: errors.MarketError) -> errors.MarketError:
        """The call ends, not retried, on ``error`` (raised without sending): what it ends in."""
        self.errors.append(error)
        return self.outcome()

    def outcome(self) -> errors.MarketError:
        """The error the call ends in: the last attempt's, unless an earlier one may have started the
        cancellation and the last cannot say so itself."""
        return _verdict(self._call, self.errors)

    def _backoff(self, retries: int) -> float:
        ceiling = min(self._policy.backoff * 2.0 ** min(retries, 64), MAX_BACKOFF)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def _verdict(call: str, tried: list[errors.MarketError]) -> errors.MarketError:
    last = tried[-1]
    unknown = [number for number, error in enumerate(tried[:-1], 1) if error.may_have_started]
    if last.may_have_started or not unknown:
        return last
    which = ", ".join(f"{number} ({type(tried[number - 1]).__name__})" for number in unknown)
    message = (
        f"{call}: outcome unknown: attempt {which} may have started the cancellation, and the last "
        f"attempt ended in {type(last).__name__}: {last}. Check the return's status before acting on it"
    )
    unknown_error = errors.OutcomeUnknownError(message, attempts=tried)
    unknown_error.__cause__ = last
    return unknown_error
