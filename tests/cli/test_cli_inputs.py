"""What the command reads of the ids an operator gives (``cli/_reading.py``, ``cli/_inputs.py``), called directly;
``test_cli.py`` runs the command itself."""

import io
from pathlib import Path

import pytest

from yandex_market_returns._constants import FILE_BOUND, LINE_BOUND
from yandex_market_returns.cli import _inputs as inputs
from yandex_market_returns.cli._cancel import RETURN_COLUMN as RETURNS
from yandex_market_returns.cli._inputs import Given, given
from yandex_market_returns.cli._reading import read_bounded
from yandex_market_returns.cli._usage import UsageError

SECRETS = ("y0_AgAAAAB1c2VyAAAbAAAAAbc123", "keywithoutdigitsatall", "key,without;digits")


def _given(text: str, tmp_path: Path, *args: str, chosen: str | None = None, secret: str | None = None) -> Given:
    listed = tmp_path / "ids.csv"
    listed.write_text(text, encoding="utf-8")
    return given(args, [str(listed)], io.StringIO(), RETURNS._replace(chosen=chosen), secret)


def _problems(given: Given, tmp_path: Path) -> list[str]:
    return [problem.replace(str(tmp_path / "ids.csv"), "F") for problem in given.problems]


class _Endless(io.RawIOBase):
    """``/dev/zero``, counting what is read of it."""

    def __init__(self, byte: bytes = b"\0") -> None:
        self.byte = byte
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        view[:] = self.byte * (len(view) // len(self.byte)) + self.byte[: len(view) % len(self.byte)]
        self.read_so_far += len(view)
        return len(view)


def test_an_endless_stream_is_refused_at_its_first_long_line_not_read_whole() -> None:
    for byte in (b"\0", b"1"):
        endless = _Endless(byte)
        with pytest.raises(UsageError) as refused:
            read_bounded(io.BufferedReader(endless), "/dev/zero")
        assert refused.value.problems == [
            "/dev/zero line 1: over 4,096 bytes, more than is read of one line: is it the right file?"
        ]
        assert endless.read_so_far <= 256 * 1024
    endless = _Endless(b"1\n")
    with pytest.raises(UsageError) as refused:
        read_bounded(io.BufferedReader(endless), "stdin")
    assert refused.value.problems == ["stdin: over 32 MiB, more than is read of one file: is it the right file?"]
    assert endless.read_so_far <= FILE_BOUND + 256 * 1024


def test_the_bounds_are_at_their_edges() -> None:
    assert read_bounded(io.BytesIO(b"1\n" + b"x" * LINE_BOUND + b"\r\n2"), "f") == "1\n" + "x" * LINE_BOUND + "\r\n2"
    with pytest.raises(UsageError) as refused:
        read_bounded(io.BytesIO(b"1\r\n2\r3\n" + b"x" * (LINE_BOUND + 1) + b"\n"), "f")
    assert refused.value.problems[0].startswith("f line 4: over 4,096 bytes")
    assert read_bounded(io.BytesIO(b"12\n" * 10), "f", file_bound=30) == "12\n" * 10
    with pytest.raises(UsageError, match="f: over 29 bytes"):
        read_bounded(io.BytesIO(b"12\n" * 10), "f", file_bound=29)


def test_a_regular_file_past_the_bound_is_refused_by_its_size(tmp_path: Path) -> None:
    big = tmp_path / "big"
    with big.open("wb") as file:
        file.truncate(FILE_BOUND + 1)  # sparse: nothing to read until the first over-long line
    with big.open("rb") as file, pytest.raises(UsageError, match="big: over 32 MiB, more than is read of one file"):
        read_bounded(file, str(big))
    big.write_bytes(b"1\n" * (FILE_BOUND // 2))
    with big.open("rb") as file:
        assert len(read_bounded(file, str(big))) == FILE_BOUND


def test_text_that_is_not_utf8_is_refused_with_its_line() -> None:
    with pytest.raises(UsageError) as refused:
        read_bounded(io.BytesIO("1\n2\n3\xe9\n".encode("latin-1")), "f")
    assert refused.value.problems == ["f line 3: not UTF-8 text"]
    assert read_bounded(io.BytesIO("\ufeff1\n".encode()), "f") == "1\n"


def test_a_hundred_thousand_ids_are_read(tmp_path: Path) -> None:
    values = _given("".join(f"{n}\n" for n in range(1, 100_001)), tmp_path)
    assert values.problems == []
    assert inputs.return_ids(values) == list(range(1, 100_001))


@pytest.mark.parametrize(
    ("char", "name"),
    [
        ("\x00", "NUL"),
        ("\x0b", "a vertical tab"),
        ("\x0c", "a form feed"),
        ("\x1c", "a file separator"),
        ("\x1d", "a group separator"),
        ("\x1e", "a record separator"),
        ("\x85", "a next line (NEL)"),
        ("\u2028", "a line separator"),
        ("\u2029", "a paragraph separator"),
    ],
)
def test_a_separator_that_is_not_a_newline_is_refused_not_split(tmp_path: Path, char: str, name: str) -> None:
    assert len(f"1{char}2".splitlines()) == (1 if char == "\x00" else 2)  # str.splitlines() split them
    values = _given(f"5\n1{char}2\n6\n{char}\n", tmp_path, f"8{char}")
    assert _problems(values, tmp_path) == [
        f"argument 1: holds {name} (U+{ord(char):04X}), which does not end a line: one id a line",
        f"F line 2: holds {name} (U+{ord(char):04X}), which does not end a line: one id a line",
        f"F line 4: holds {name} (U+{ord(char):04X}), which does not end a line: one id a line",
    ]
    assert [value for _, value in values.values] == ["5", "6"]


def test_spaces_around_an_id_are_not_part_of_it(tmp_path: Path) -> None:
    values = _given(" 1 \n\t2\t\n 3\n", tmp_path, " 4 ", "5\t")
    assert values.problems == []
    assert inputs.return_ids(values) == [4, 5, 1, 2, 3]
    values = _given('return_id,order\n" 6 ",1\n 7 ,2\n', tmp_path)
    assert inputs.return_ids(values) == [6, 7]
    with pytest.raises(UsageError, match="not a return id: '1 2'"):
        inputs.return_ids(_given("1 2\n", tmp_path))  # spaces inside an id are still wrong


def test_a_header_never_chooses_among_several_likely_columns(tmp_path: Path) -> None:
    values = _given("order_id,return_id,return_reason\n5550001,14,x\n", tmp_path)
    assert _problems(values, tmp_path) == [
        "F line 1: 2 columns could hold the return ids: 'return_id', 'return_reason'; choose one with "
        "--column NAME, e.g. --column return_id"
    ]
    assert values.values == []
    assert values.headers == []
    values = _given("order_id,return_id,return_reason\n5550001,14,x\n", tmp_path, chosen=" return_id ")
    assert values.problems == []
    assert [value for _, value in values.values] == ["14"]
    assert [header.column for header in values.headers] == ["return_id"]
    values = _given("order_id,Return ID\n5550001,15\n", tmp_path)  # one likely column: taken, as before
    assert [value for _, value in values.values] == ["15"]
    values = _given("a,b\n1,2\n", tmp_path)  # none: the first, as before
    assert [(value, str(values.headers[0])) for _, value in values.values] == [
        ("1", f"{tmp_path / 'ids.csv'} line 1 was read as a header; the ids are from its column 'a'")
    ]
    assert _problems(_given("Возврат;Заказ;Причина возврата\n1;2;x\n", tmp_path), tmp_path) == [
        "F line 1: 2 columns could hold the return ids: 'Возврат', 'Причина возврата'; choose one with "
        "--column NAME, e.g. --column 'Возврат'"
    ]


def test_column_names_a_column_of_the_header_exactly(tmp_path: Path) -> None:
    header = "order_id,return_id,return_reason\n5550001,14,x\n"
    assert _problems(_given(header, tmp_path, chosen="Return_id"), tmp_path) == [
        "F line 1: no column named 'Return_id' (--column); the header's: 'order_id', 'return_id', 'return_reason'"
    ]
    assert _problems(_given("return_id;return_id\n1;2\n", tmp_path, chosen="return_id"), tmp_path) == [
        "F line 1: 2 columns are named 'return_id'"
    ]
    assert _problems(_given("1,2\n", tmp_path, chosen="return_id"), tmp_path) == [
        "F: --column was given, but the file has no header (its first line holds a digit)"
    ]
    none = given(["1"], [], io.StringIO(), RETURNS._replace(chosen="return_id"))
    assert none.problems == ["--column: no --from file to choose a column of"]
    values = _given("id\n1\n", tmp_path, chosen="id")  # one column, no delimiter
    assert [value for _, value in values.values] == ["1"]


@pytest.mark.parametrize("secret", SECRETS)
def test_a_line_holding_the_key_is_never_shown_wherever_it_is(tmp_path: Path, secret: str) -> None:
    for text in (
        f"{secret}\n",  # a key file given as the ids: without digits it reads as a header
        f"{secret}\n1\n",
        f"return_id,{secret}\n1,x\n",  # the key as a column's name
        f"return_{secret},return_id\n1,x\n",  # one that would be listed among the likely columns
        f"1\n{secret}\n",
        f"1,{secret}\n",  # in a cell the ids are not taken from, or cut in two by the delimiter
        f"1;a\n{secret};2\n",
    ):
        values = _given(text, tmp_path, secret=secret)
        problems = _problems(values, tmp_path)
        for shown in (*problems, *map(str, values.headers), *(value for _, value in values.values)):
            assert secret[:5] not in shown, (text, shown)
            assert secret[-5:] not in shown, (text, shown)
        assert any(problem.endswith(" holds the API key: it is not an id") for problem in problems), text
        with pytest.raises(UsageError) as refused:
            inputs.operation_ids(values)
        assert all(secret[:5] not in problem for problem in refused.value.problems)
    values = given([secret], [], io.StringIO(), RETURNS, secret)
    assert values.problems == ["argument 1 holds the API key: it is not an id"]


def test_stdin_is_read_as_bytes_of_utf8(tmp_path: Path) -> None:
    stdin = io.TextIOWrapper(io.BytesIO("Заказ;Возврат\n9;1\n9;2\n".encode()), encoding="latin-1")
    values = given([], ["-"], stdin, RETURNS)
    assert ([value for _, value in values.values], values.problems) == (["1", "2"], [])
    assert values.headers[0].column == "Возврат"
    assert given([], ["-"], io.StringIO("3\n"), RETURNS).values == [("stdin line 1", "3")]
