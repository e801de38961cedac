"""``doctor``: is everything in place to cancel returns? It asks the Market only getOperations for an operation
that does not exist, which changes nothing, and never cancels anything."""

import argparse
from typing import TextIO

from .. import errors
from .._validation import BUSINESS_ID_BOUNDS, DEFAULT_BASE_URL
from ..limits import FileLimits
from . import _inputs, _settings
from ._usage import ALL_DONE, SOME_NOT_DONE, UsageError

# An operation id no cancellation ever returns: the Market has nothing to report of it.
NO_SUCH_OPERATION = "yandex-market-returns-doctor"


def run(args: argparse.Namespace, stdout: TextIO) -> int:
    """0 when every check passed, 1 when something is to fix or could not be checked."""
    checks = _Checks(stdout)
    key = _key(args, checks)
    options = _settings.check(args)
    for problem in options:
        checks.fix(problem)
    if not options:
        checks.ok(f"base URL: {args.base_url}{' (the Market)' if args.base_url == DEFAULT_BASE_URL else ''}")
        _limits(args, checks)
    business = None
    try:
        business = _inputs.number("--business-id", args.business_id, BUSINESS_ID_BOUNDS)
    except UsageError as error:
        checks.fix(str(error))
    if args.business_id is None:
        checks.fix("the Market: not asked; give --business-id (the cabinet's id) to check that it accepts the key")
    elif key is not None and not options and business is not None:
        _market(args, business, checks)
    else:
        checks.fix("the Market: not asked until the lines above are fixed")
    print("all good" if checks.passed else "not all good: see the lines marked FIX", file=stdout)
    return ALL_DONE if checks.passed else SOME_NOT_DONE


class _Checks:
    def __init__(self, stdout: TextIO) -> None:
        self._stdout = stdout
        self.passed = True

    def ok(self, text: str) -> None:
        print(f"ok   {text}", file=self._stdout)

    def fix(self, text: str) -> None:
        self.passed = False
        print(f"FIX  {text}", file=self._stdout)


def _key(args: argparse.Namespace, checks: _Checks) -> str | None:
    try:
        key, where = _settings.api_key(args)
    except UsageError as error:
        checks.fix(f"key: {error}")
        return None
    checks.ok(f"key: from {where}, {len(key)} characters")
    open_to_others = _settings.key_file_open(args)
    if open_to_others is not None:
        checks.fix(open_to_others)
    return key


def _limits(args: argparse.Namespace, checks: _Checks) -> None:
    """Where the limits are kept; when in Redis, whether it answers (a PING, nothing written)."""
    try:
        shared = _settings.limits(args)
    except UsageError as error:
        checks.fix(str(error))
        return
    if isinstance(shared, FileLimits):
        checks.ok(f"limits: {_settings.limits_said(args)}")
        return
    try:
        shared.ping()
    except errors.LimitsUnavailableError as error:
        checks.fix(f"limits: {error}")
    else:
        checks.ok(f"limits: {_settings.limits_said(args)}, which answers and runs the limits' scripts")
    finally:
        shared.close()


def _market(args: argparse.Namespace, business: int, checks: _Checks) -> None:
    with _settings.client(args) as client:
        try:
            client.get_operations(business, [NO_SUCH_OPERATION])
        except errors.MarketError as error:
            checks.fix(_refused(error, business, args.base_url))
        else:
            checks.ok(f"the Market answers and accepts the key for business {business} (nothing was changed)")


def _refused(error: errors.MarketError, business: int, base_url: str) -> str:
    """What the answer says of the key, and what to fix."""
    if isinstance(error, errors.UnauthorizedError):
        return f"the Market refused the key (401): is it the whole token, and still valid? ({error})"
    if isinstance(error, errors.ForbiddenError):
        return (
            f"the Market denied access (403): the key needs access to business {business}, with "
            f"'inventory-and-order-processing' or 'all-methods' ({error})"
        )
    if isinstance(error, errors.LimitsUnavailableError):  # nothing was sent: the Market was not asked
        return f"the Market: not asked, the shared limits refused: {error}"
    if isinstance(error, errors.TransportError):
        return f"the Market did not answer at {base_url}: {error}"
    if isinstance(error, errors.RateLimitError):
        return f"the Market answers, but the key could not be checked: the hourly limit is spent ({error})"
    return (
        f"the Market answered with an error, so whether it accepts the key is not known: "
        f"{type(error).__name__}: {error}"
    )
