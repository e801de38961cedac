"""What an operator gives the command: ids from arguments, a file or stdin, numbers, the key. Every problem is
collected and reported at once, before anything is sent."""

import argparse
import contextlib
import csv
import io
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple, TextIO

import httpx

from ..base import API_KEY_VARIABLE
from ..client import ReturnsClient
from ..validation import OPERATION_ID_LENGTH, RETURN_ID_BOUNDS


class UsageError(Exception):
    """Bad input: every problem at once, before anything is sent."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Problems:
    """Collects the problems of several checks, so that one run reports them all."""

    def __init__(self) -> None:
        self.found: list[str] = []

    @contextlib.contextmanager
    def collected(self) -> Iterator[None]:
        try:
            yield
        except UsageError as error:
            self.found += error.problems

    def raise_any(self) -> None:
        if self.found:
            raise UsageError(self.found)


class Given(NamedTuple):
    """Values as given, each with where it came from, and the sources that could not be read."""

    values: list[tuple[str, str]]
    problems: list[str]


def given(values: Iterable[str], source: str | None, stdin: TextIO, what: str) -> Given:
    """The values of the arguments and of ``--from`` (a file, or ``-`` for stdin), in order."""
    found = [(f"argument {number}", value) for number, value in enumerate(values, start=1)]
    problems = []
    if source is not None:
        try:
            text = stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
            problems.append(f"--from {source}: {reason}")
        else:
            name = "stdin" if source == "-" else source
            found += [(f"{name} line {number}", value) for number, value in _lines(text)]
    if not found and not problems:
        problems.append(f"no {what}: give them as arguments, or with --from FILE or --from -")
    return Given(found, problems)


def _lines(text: str) -> list[tuple[int, str]]:
    """One value a line, or the first column of a CSV whose first line is a header (not a number)."""
    rows = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not rows or not any(mark in rows[0][1] for mark in ",;\t"):
        return [(number, line.strip()) for number, line in rows]
    dialect = csv.Sniffer().sniff(rows[0][1], delimiters=",;\t")
    cells = [(number, next(csv.reader(io.StringIO(line), dialect), [""])[0].strip()) for number, line in rows]
    return cells[1:] if not cells[0][1].isdigit() else cells


# A return id as the spec has it: an int64, written in ASCII digits.
_INTEGER = re.compile(r"-?[0-9]{1,20}")


def return_ids(values: Given) -> list[int]:
    """Each a return id in the spec's bounds, none twice; every bad one named with where it came from."""
    ids: list[int] = []
    problems = list(values.problems)
    seen: dict[int, str] = {}
    low, high = RETURN_ID_BOUNDS
    for where, value in values.values:
        if not _INTEGER.fullmatch(value):
            problems.append(f"{where}: not a return id: {value[:40]!r}")
        elif not low <= int(value) <= high:
            problems.append(f"{where}: return id {int(value)} is out of range {low}..{high}")
        elif int(value) in seen:
            problems.append(f"{where}: return id {int(value)} was given before, at {seen[int(value)]}")
        else:
            seen[int(value)] = where
            ids.append(int(value))
    if problems:
        raise UsageError(problems)
    return ids


def operation_ids(values: Given) -> list[str]:
    """Each an operation id within the spec's length bounds; one given twice is asked for once."""
    low, high = OPERATION_ID_LENGTH
    problems = values.problems + [
        f"{where}: not an operation id ({low} to {high} characters, no spaces): {value[:40]!r}"
        for where, value in values.values
        if not low <= len(value) <= high or not value.isprintable() or any(char.isspace() for char in value)
    ]
    if problems:
        raise UsageError(problems)
    return list(dict.fromkeys(value for _, value in values.values))


def number(name: str, value: str | None, bounds: tuple[int, int]) -> int | None:
    if value is None:
        return None
    if not _INTEGER.fullmatch(value.strip()):
        raise UsageError([f"{name}: not a number: {value[:40]!r}"])
    checked = int(value)
    if not bounds[0] <= checked <= bounds[1]:
        raise UsageError([f"{name}: {checked} is out of range {bounds[0]}..{bounds[1]}"])
    return checked


def api_key(args: argparse.Namespace) -> tuple[str, str]:
    """The key and where it came from: ``--api-key-file``, else the environment. Never a flag's value: it
    would show in ``ps`` and in shell history."""
    if args.api_key_file is not None:
        where = f"--api-key-file {args.api_key_file}"
        try:
            key = Path(args.api_key_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
            raise UsageError([f"{where}: {reason}"]) from None
        if not key:
            raise UsageError([f"{where}: the file is empty"])
        return key, where
    key = os.environ.get(API_KEY_VARIABLE, "").strip()
    if not key:
        raise UsageError([f"no key: set {API_KEY_VARIABLE}, or give --api-key-file FILE"])
    return key, API_KEY_VARIABLE


def client(args: argparse.Namespace, key: str, transport: httpx.BaseTransport | None = None) -> ReturnsClient:
    """A client with the options given; a bad option is a usage error naming it (never the key's value)."""
    try:
        return ReturnsClient(
            api_key=key,
            base_url=args.base_url,
            timeout=args.timeout,
            max_retries=args.max_retries,
            transport=transport,
        )
    except (TypeError, ValueError) as error:
        raise UsageError([str(error)]) from None
