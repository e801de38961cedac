"""The ids an operator gives: from arguments, files or stdin, each checked, every problem reported at once with
where it is, before anything is sent."""

import contextlib
import csv
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple, TextIO

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
    """Values as given, each with where it is; what could not be read; and what was read as a header."""

    values: list[tuple[str, str]]
    problems: list[str]
    headers: list[str]


# An integer as the spec's int64 ids are written: ASCII digits, a sign at most.
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")


def given(values: Iterable[str], sources: list[str], stdin: TextIO, what: str) -> Given:
    """The values of the arguments, then of each ``--from`` (a file, or ``-`` for stdin), in order."""
    found = [(f"argument {number}", value) for number, value in enumerate(values, start=1)]
    problems: list[str] = []
    headers: list[str] = []
    for source in sources:
        name = "stdin" if source == "-" else source
        try:
            text = stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
            problems.append(f"--from {name}: {reason}")
            continue
        rows, header = _rows(text.removeprefix("\ufeff"))  # a spreadsheet's UTF-8 BOM
        found += [(f"{name} line {number}", value) for number, value in rows]
        if header is not None:
            headers.append(f"{name} line 1 was read as a header: {header[:60]!r}")
    if not found and not problems:
        problems.append(f"no {what}: give them as arguments, or with --from FILE or --from -")
    return Given(found, problems, headers)


def _rows(text: str) -> tuple[list[tuple[int, str]], str | None]:
    """(line number, value) of each line that is not blank: the line itself, or the first cell of a CSV
    (``,``, ``;`` or tab); and the first line when it is a header. A first line is a header only when it
    holds no digit at all: one with a mistyped id is reported as that, never skipped as a header."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        return [], None
    delimiter = max(",;\t", key=lines[0][1].count)
    if delimiter in lines[0][1]:
        cells = [(number, next(csv.reader(io.StringIO(line), delimiter=delimiter), [])) for number, line in lines]
        lines = [(number, row[0] if row else "") for number, row in cells if any(cell.strip() for cell in row)]
    rows = [(number, value.strip()) for number, value in lines]
    if rows and rows[0][0] == 1 and not any(char.isdigit() for char in text.splitlines()[0]):
        return rows[1:], text.splitlines()[0]
    return rows, None


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
