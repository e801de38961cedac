"""The ids an operator gives: from arguments, files or stdin, each checked, every problem reported at once with
where it is, before anything is sent."""

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple, TextIO

from ..validation import OPERATION_ID_LENGTH, RETURN_ID_BOUNDS
from .usage import UsageError, unreadable


class Header(NamedTuple):
    """A file's first line, read as a header, and the column the ids were taken from."""

    where: str
    line: str
    column: str

    def __str__(self) -> str:
        return f"{self.where} was read as a header; the ids are from its column {self.column[:40]!r}"


class Given(NamedTuple):
    """Values as given, each with where it is; what could not be read; and what was read as a header."""

    values: list[tuple[str, str]]
    problems: list[str]
    headers: list[Header]


# An integer as the spec's int64 ids are written: ASCII digits, a sign at most; one of more than 20 digits is
# out of range before it is read.
_DIGITS = re.compile(r"[+-]?[0-9]+")
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
# A bad value is shown this long at most: a key put where an id goes must not be printed whole.
SHOWN = 12


def shown(value: str) -> str:
    """A bad value, as a message shows it: whole when short; else its start and its length."""
    return repr(value) if len(value) <= SHOWN else f"{value[:6]!r}... ({len(value)} characters)"


def given(values: Iterable[str], sources: list[str], stdin: TextIO, what: str, column: re.Pattern[str]) -> Given:
    """The values of the arguments, then of each ``--from`` (a file, or ``-`` for stdin), in order. In a CSV
    under a header, the ids are taken from the one column whose name matches ``column``, else the first."""
    found = [(f"argument {number}", value) for number, value in enumerate(values, start=1)]
    problems: list[str] = []
    headers: list[Header] = []
    for source in sources:
        name = "stdin" if source == "-" else source
        try:
            text = stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(f"--from {name}: {unreadable(error)}")
            continue
        rows, header = _rows(text.removeprefix("\ufeff"), column)  # a spreadsheet's UTF-8 BOM
        found += [(f"{name} line {number}", value) for number, value in rows]
        if header is not None:
            headers.append(Header(f"{name} line 1", *header))
    if not found and not problems:
        only = f" (only a header: {headers[0].where})" if headers else ""
        problems.append(f"no {what}{only}: give them as arguments, or with --from FILE or --from -")
    return Given(found, problems, headers)


def _rows(text: str, column: re.Pattern[str]) -> tuple[list[tuple[int, str]], tuple[str, str] | None]:
    """(line number, value) of each line that is not blank: the line itself, or a cell of a CSV (``,``, ``;``
    or tab); and, when the first line is a header, it and the name of the column read. A first line is a
    header only when it holds no digit at all: one with a mistyped id is reported as that, never skipped."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        return [], None
    first = lines[0][1]
    header = lines[0][0] == 1 and not any(char.isdigit() for char in first)
    delimiter = max(",;\t", key=first.count)
    if delimiter not in first:
        rows = [(number, line.strip()) for number, line in lines]
        return (rows[1:], (first, first.strip())) if header else (rows, None)
    cells = [(number, next(csv.reader(io.StringIO(line), delimiter=delimiter), [])) for number, line in lines]
    cells = [(number, row) for number, row in cells if any(cell.strip() for cell in row)]
    names = [name.strip() for name in cells[0][1]] if header else []
    matching = [index for index, name in enumerate(names) if column.search(name)]
    index = matching[0] if len(matching) == 1 else 0
    rows = [(number, row[index].strip() if index < len(row) else "") for number, row in cells]
    return (rows[1:], (first, names[index] if names else first)) if header else (rows, None)


def return_ids(values: Given) -> list[int]:
    """Each a return id in the spec's bounds, none twice; every bad one named with where it came from."""
    ids: list[int] = []
    problems = list(values.problems)
    seen: dict[int, str] = {}
    low, high = RETURN_ID_BOUNDS
    for where, value in values.values:
        if not _DIGITS.fullmatch(value):
            problems.append(f"{where}: not a return id: {shown(value)}")
        elif _out_of(RETURN_ID_BOUNDS, value):
            problems.append(f"{where}: return id {_shown(value)} is out of range {low}..{high}")
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
        f"{where}: not an operation id ({low} to {high} characters, no spaces): {shown(value)}"
        for where, value in values.values
        if not low <= len(value) <= high or not value.isprintable() or any(char.isspace() for char in value)
    ]
    nulls = [*values.values, *((header.where, header.line.strip()) for header in values.headers)]
    problems += [
        f"{where}: null is not an operation id: a return that was not started has none"
        for where, value in nulls
        if value == "null"
    ]
    if problems:
        raise UsageError(problems)
    return list(dict.fromkeys(value for _, value in values.values))


def number(name: str, value: str | None, bounds: tuple[int, int]) -> int | None:
    if value is None:
        return None
    value = value.strip()
    if not _DIGITS.fullmatch(value):
        raise UsageError([f"{name}: not a number: {shown(value)}"])
    if _out_of(bounds, value):
        raise UsageError([f"{name}: {_shown(value)} is out of range {bounds[0]}..{bounds[1]}"])
    return int(value)


def _out_of(bounds: tuple[int, int], digits: str) -> bool:
    return not _INTEGER.fullmatch(digits) or not bounds[0] <= int(digits) <= bounds[1]


def _shown(digits: str) -> str:
    return digits if len(digits) <= 40 else f"{digits[:20]}... ({len(digits)} digits)"
