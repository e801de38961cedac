"""``doctor``: is everything in place to cancel returns? It asks the Market only getOperations for an operation
that does not exist, which changes nothing, and never cancels anything."""

import argparse
import stat
from pathlib import Path
from typing import TextIO

from .. import errors
from ..validation import BUSINESS_ID_BOUNDS, DEFAULT_BASE_URL, check_api_key, check_base_url
from . import inputs

# An operation id no cancellation ever returns: the Market has nothing to report of it.
NO_SUCH_OPERATION = "yandex-market-returns-doctor"


def run(args: argparse.Namespace, stdout: TextIO) -> int:
    """0 when every check passed, 1 when something is to fix."""
    checks = _Checks(stdout)
    key = _key(args, checks)
    base_url = _base_url(args.base_url, checks)
    business = None
    try:
        business = inputs.number("--business-id", args.business_id, BUSINESS_ID_BOUNDS)
    except inputs.UsageError as error:
        checks.fix(f"business: {error}")
    if business is None:
        if args.business_id is None:
            checks.fix("the Market: not asked; give --business-id (the cabinet's id) to check it accepts the key")
    elif key is None or base_url is None:
        checks.fix("the Market: not asked until the key and the base URL are right")
    else:
        _market(args, key, business, checks)
    print("all good" if checks.passed else "fix the lines marked FIX, then run doctor again", file=stdout)
    return 0 if checks.passed else 1


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
        key, where = inputs.api_key(args)
        check_api_key(key)
    except inputs.UsageError as error:
        checks.fix(f"key: {error}")
        return None
    except ValueError as error:  # the message never holds the key
        checks.fix(f"key from {where}: {error}")
        return None
    checks.ok(f"key: from {where}, {len(key)} characters")
    if args.api_key_file is not None:
        mode = Path(args.api_key_file).stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            checks.fix(f"key file {args.api_key_file}: others can read it; run: chmod 600 {args.api_key_file}")
    return key


def _base_url(base_url: str, checks: _Checks) -> str | None:
    try:
        check_base_url(base_url)
    except ValueError as error:
        checks.fix(f"base URL: {error}")
        return None
    checks.ok(f"base URL: {base_url}{' (the Market)' if base_url == DEFAULT_BASE_URL else ''}")
    return base_url


def _market(args: argparse.Namespace, key: str, business: int, checks: _Checks) -> None:
    try:
        client = inputs.client(args, key)
    except inputs.UsageError as error:
        checks.fix(f"options: {error}")
        return
    with client:
        try:
            client.get_operations(business, [NO_SUCH_OPERATION])
        except errors.UnauthorizedError as error:
            checks.fix(f"the Market refused the key (401): is it the whole token, and still valid? ({error})")
        except errors.ForbiddenError as error:
            checks.fix(
                f"the Market denied access (403): the key needs access to business {business}, with "
                f"'inventory-and-order-processing' or 'all-methods' ({error})"
            )
        except errors.TransportError as error:
            checks.fix(f"the Market did not answer at {args.base_url}: {error}")
        except errors.RateLimitError as error:
            checks.fix(f"the Market answers, but could not check the key: its hourly limit is spent ({error})")
        except errors.BadRequestError as error:
            checks.ok(f"the Market answers and did not refuse the key (400 to a made-up operation: {error})")
        except errors.MarketError as error:
            checks.fix(f"the Market answered with an error: {type(error).__name__}: {error}")
        else:
            checks.ok(f"the Market answers and accepts the key for business {business} (nothing was changed)")
