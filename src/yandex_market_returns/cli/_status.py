"""``status``: how the Market reports operations (getOperations), for the ids a ``cancel`` printed."""

import argparse
import json
import re
from typing import TextIO

from .. import errors
from .._validation import BUSINESS_ID_BOUNDS
from . import _inputs, _settings
from ._usage import ALL_DONE, NOT_KNOWN, PROG, SOME_NOT_DONE, Problems

# The column of an export that holds operation ids, by its header (unless --column names it).
OPERATION_COLUMN = _inputs.Columns("operation ids", re.compile(r"operation|операци", re.IGNORECASE))


def run(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """0 when every operation is ``DONE``, 1 when the Market answered and some are not, 3 when it could not be
    asked or did not answer getOperations (nothing is known of them)."""
    problems = Problems()
    business = None
    ids: list[str] = []
    with problems.collected():
        business = _inputs.number("--business-id", args.business_id, BUSINESS_ID_BOUNDS)
    _settings.warn_key_file_open(args, stderr)
    given = _settings.ids_given(args, stdin, stderr, OPERATION_COLUMN)
    with problems.collected():
        ids = _inputs.operation_ids(given)
    problems.found += _settings.check(args)
    with problems.collected():
        _settings.api_key(args)
    problems.raise_any()
    assert business is not None
    with _settings.client(args) as client:
        try:
            results = client.get_operations(business, ids)
        except errors.MarketError as error:
            print(
                f"{PROG}: getOperations failed: {type(error).__name__}: {error}; the operations' statuses are not "
                "known",
                file=stderr,
            )
            return NOT_KNOWN
    for result in results:
        status = None if result.status is None else str(result.status.value)
        print(json.dumps({"operation_id": result.id, "status": status}), file=stdout)
    statuses = [result.status.value if result.status else "not reported" for result in results]
    counts = ", ".join(f"{statuses.count(status)} {status}" for status in dict.fromkeys(statuses))
    print(f"{len(results)} operation{'' if len(results) == 1 else 's'}: {counts}", file=stderr)
    return ALL_DONE if statuses.count("DONE") == len(statuses) else SOME_NOT_DONE
