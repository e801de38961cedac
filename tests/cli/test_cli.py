"""The ``yandex-market-returns`` command, run as an operator runs it (a subprocess), against the fake Market."""

import concurrent.futures
import fcntl
import io
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import ROOT
from yandex_market_returns.cli._settings import limits_folder
from yandex_market_returns.testing import Canned, FakeMarket, Fault

KEY = "fake-market-key-cli-5d1e"
STORE = 21621656
BUSINESS = FakeMarket.DEFAULT_BUSINESS


def _env(key: str | None = KEY) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "YANDEX_MARKET_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / part) for part in ("generated", "src"))
    if key is not None:
        env["YANDEX_MARKET_API_KEY"] = key
    return env


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "yandex_market_returns.cli", *args]


def _run(*args: str, stdin: str = "", key: str | None = KEY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(*args), input=stdin, capture_output=True, text=True, env=_env(key), timeout=120, check=False
    )


def _lines(stdout: str) -> dict[int, dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines()]
    by_id = {line["return_id"]: line for line in lines}
    assert len(by_id) == len(lines), "a return was reported twice"
    return by_id


def _sent(market: FakeMarket) -> list[int]:
    """The return ids of the cancelReturn requests the Market received, retries included."""
    return [json.loads(x.body)["returnId"] for x in market.exchanges if x.path.endswith("/returns/cancel")]


@pytest.fixture(autouse=True)
def _own_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs the command in a directory of its own: the journal it keeps there is this test's alone."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def market() -> Iterator[FakeMarket]:
    with FakeMarket(api_key=KEY, latency=0.01) as fake:
        fake.add_returns(STORE, *range(1, 200))
        yield fake


def test_cancel_reports_one_line_per_return_and_exits_0(market: FakeMarket) -> None:
    done = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "1", "2", "3")
    assert done.returncode == 0, done.stderr
    lines = _lines(done.stdout)
    assert sorted(lines) == [1, 2, 3]
    started = {operation.return_id: operation.id for operation in market.operations}
    assert all(line["ok"] and line["operation_id"] == started[id_] for id_, line in lines.items())
    assert all(line["error"] is None and line["status"] is None for line in lines.values())
    assert "\n3 returns: 3 in progress (started, not seen to end);" in done.stderr
    assert "\x1b[K" not in done.stderr  # no progress display without a terminal


def test_with_a_business_each_operation_is_awaited_and_a_failed_one_exits_1(market: FakeMarket) -> None:
    market.add_returns(STORE, 300, cancellation_fails=True)
    market.operation_delay = 0.3
    done = _run(
        "cancel", "--campaign-id", str(STORE), "--business-id", str(BUSINESS), "--base-url", market.base_url,
        "--from", "-", stdin="1\n2\n300\n",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    lines = _lines(done.stdout)
    assert {id_: line["status"] for id_, line in lines.items()} == {1: "DONE", 2: "DONE", 300: "FAILED"}
    assert market.shipment_status(STORE, 1) == "CANCELLED"
    assert "3 returns: 2 cancelled, 1 failed (the Market's FAILED);" in done.stderr


def test_every_confirmed_return_exits_0(market: FakeMarket) -> None:
    done = _run(
        "cancel", "--campaign-id", str(STORE), "--business-id", str(BUSINESS), "--base-url", market.base_url, "7"
    )
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout)[7]["status"] == "DONE"


def test_bad_ids_are_all_reported_with_where_they_are_and_nothing_is_sent(market: FakeMarket, tmp_path: Path) -> None:
    listed = tmp_path / "returns.csv"
    listed.write_text("return_id,reason\n5,damaged\nfive,lost\n3.5,x\n-9223372036854775809,y\n", encoding="utf-8")
    done = _run(
        "cancel", "--campaign-id", "0x10", "--base-url", market.base_url, "7", "a7", "7",
        "--from", str(listed),
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"yandex-market-returns: {listed} line 1 was read as a header; the ids are from its column 'return_id'",
        "yandex-market-returns: --campaign-id: not a number: '0x10'",
        "yandex-market-returns: argument 2: not a return id: 'a7'",
        "yandex-market-returns: argument 3: return id 7 was given before, at argument 1",
        f"yandex-market-returns: {listed} line 3: not a return id: 'five'",
        f"yandex-market-returns: {listed} line 4: not a return id: '3.5'",
        f"yandex-market-returns: {listed} line 5: return id -9223372036854775809 is out of range "
        "-9223372036854775808..9223372036854775807",
    ]
    assert done.stdout == ""
    assert market.exchanges == []


def test_an_unreadable_file_is_reported_with_the_other_problems(market: FakeMarket, tmp_path: Path) -> None:
    done = _run("cancel", "--campaign-id", str(STORE), "--from", str(tmp_path / "missing"), "x")
    assert done.returncode == 2
    assert f"--from {tmp_path / 'missing'}: No such file or directory" in done.stderr
    assert "argument 1: not a return id: 'x'" in done.stderr


def test_ids_from_a_csv_with_a_header_and_from_stdin(market: FakeMarket, tmp_path: Path) -> None:
    listed = tmp_path / "export.csv"
    listed.write_text('"Return","Order"\n"11","9001"\n12,9002\n\n', encoding="utf-8")
    done = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "--from", str(listed))
    assert done.returncode == 0, done.stderr
    assert sorted(_lines(done.stdout)) == [11, 12]
    done = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "--from", "-", stdin="13\n 14 \n")
    assert sorted(_lines(done.stdout)) == [13, 14]
    assert sorted(_sent(market)) == [11, 12, 13, 14]


def test_dry_run_prints_what_would_be_sent_and_sends_nothing(market: FakeMarket) -> None:
    ids = [str(n) for n in range(1, 31)]
    done = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "--dry-run", *ids, key=None)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0] == {"campaign_id": STORE, "return_id": 1, "would_send": True}
    assert [line["return_id"] for line in lines] == list(range(1, 31))
    assert "dry run: 30 of 30 returns of store 21621656 would be sent; nothing was sent" in done.stderr
    assert market.exchanges == []


def test_a_return_the_market_refuses_exits_1_and_says_why(market: FakeMarket) -> None:
    done = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "1", "404")
    assert done.returncode == 1
    lines = _lines(done.stdout)
    assert lines[1]["ok"] is True
    assert lines[404]["error"].startswith("BadRequestError")
    assert (lines[404]["retryable"], lines[404]["may_have_started"]) == (False, False)
    assert "2 returns: 1 not cancellable, 1 in progress (started, not seen to end);" in done.stderr


def test_a_refused_key_stops_the_batch_and_is_never_printed(market: FakeMarket) -> None:
    wrong = "wrong-key-of-the-operator-93a1"
    ids = [str(n) for n in range(1, 101)]
    done = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "-v", "--yes", *ids, key=wrong)
    assert done.returncode == 1
    assert len(_sent(market)) < 20  # stopped at the first refusal: the requests already in flight, no more
    lines = _lines(done.stdout)
    assert all(line["error"].startswith("ForbiddenError") for line in lines.values())
    assert "stopped: the Market refused the request (" in done.stderr
    not_sent = next(line for line in done.stderr.splitlines() if line.startswith("not sent: "))
    assert len(not_sent.split()) - 2 == 100 - len(lines)
    assert wrong not in done.stdout + done.stderr


def test_the_key_comes_from_a_file_and_is_never_printed(market: FakeMarket, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    args = ("--base-url", market.base_url, "--api-key-file", str(key_file), "-v")
    done = _run("cancel", "--campaign-id", str(STORE), "--business-id", str(BUSINESS), *args, "5", key=None)
    doctor = _run("doctor", "--business-id", str(BUSINESS), *args, key=None)
    status = _run("status", "--business-id", str(BUSINESS), *args, "no-such-operation", key=None)
    assert done.returncode == 0, done.stderr
    for run in (done, doctor, status):
        assert KEY not in run.stdout + run.stderr
        assert KEY[:12] not in run.stdout + run.stderr


def test_without_a_key_it_says_how_to_give_one(market: FakeMarket, tmp_path: Path) -> None:
    done = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "1", key=None)
    assert done.returncode == 2
    assert "no key: set YANDEX_MARKET_API_KEY, or give --api-key-file FILE" in done.stderr
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    done = _run("cancel", "--campaign-id", str(STORE), "--api-key-file", str(tmp_path / "empty"), "1", key=None)
    assert done.returncode == 2
    assert "the file is empty" in done.stderr
    assert market.exchanges == []


def test_usage_errors_exit_2(market: FakeMarket) -> None:
    assert _run("cancel", "1").returncode == 2  # no --campaign-id
    assert _run().returncode == 2  # no command
    done = _run("cancel", "--campaign-id", str(STORE), "--base-url", "http://example.invalid", "1")
    assert done.returncode == 2
    assert "base_url must use https" in done.stderr
    assert _run("cancel", "--campaign-id", str(STORE), "--timeout", "-1", "1").returncode == 2
    assert market.exchanges == []


def test_status_reports_each_operation_and_exits_0_only_when_all_are_done(market: FakeMarket) -> None:
    market.add_returns(STORE, 300, cancellation_fails=True)
    started = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "1", "300")
    ids = {line["return_id"]: line["operation_id"] for line in _lines(started.stdout).values()}
    args = ("status", "--business-id", str(BUSINESS), "--base-url", market.base_url)
    done = _run(*args, ids[1])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"operation_id": ids[1], "status": "DONE"}
    done = _run(*args, "--from", "-", stdin=f"{ids[1]}\n{ids[300]}\nnever-started\n")
    assert done.returncode == 1
    assert [json.loads(line)["status"] for line in done.stdout.splitlines()] == ["DONE", "FAILED", None]
    assert "3 operations: 1 DONE, 1 FAILED, 1 not reported" in done.stderr
    done = _run(*args, "has space", "x" * 1001)
    assert done.returncode == 2
    assert done.stderr.count("not an operation id") == 2


def test_doctor_checks_everything_and_cancels_nothing(market: FakeMarket, tmp_path: Path) -> None:
    done = _run("doctor", "--business-id", str(BUSINESS), "--base-url", market.base_url)
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines() == [
        f"ok   key: from YANDEX_MARKET_API_KEY, {len(KEY)} characters",
        f"ok   base URL: {market.base_url}",
        f"ok   limits: shared with this command's other runs on this host, by lock files in {limits_folder()} (no "
        "--redis-url or YANDEX_MARKET_RETURNS_REDIS_URL: services that share the store's limits through Redis do not "
        "count this command's requests)",
        f"ok   the Market answers and accepts the key for business {BUSINESS} (nothing was changed)",
        "all good",
    ]
    assert [x.path for x in market.exchanges] == [f"/v1/businesses/{BUSINESS}/operations"]
    assert market.operations == []


def test_doctor_says_what_to_fix(market: FakeMarket, tmp_path: Path) -> None:
    wrong = tmp_path / "key"
    wrong.write_text("wrong-key-3c9d", encoding="utf-8")
    wrong.chmod(0o644)
    done = _run("doctor", "--business-id", str(BUSINESS), "--base-url", market.base_url, "--api-key-file", str(wrong))
    assert done.returncode == 1
    assert f"FIX  key file {wrong}: others can read it; run: chmod 600 {wrong}" in done.stdout
    assert "FIX  the Market denied access (403)" in done.stdout
    assert "wrong-key-3c9d" not in done.stdout + done.stderr
    done = _run("doctor", "--base-url", "http://127.0.0.1:1", key="has space")
    assert done.returncode == 1
    assert "FIX  key: the key from YANDEX_MARKET_API_KEY: api_key holds characters" in done.stdout
    assert "FIX  the Market: not asked; give --business-id" in done.stdout
    market.inject(Canned(400, b'{"status":"ERROR","errors":[{"code":"BAD_REQUEST","message":"bad id"}]}'))
    done = _run("doctor", "--business-id", str(BUSINESS), "--base-url", market.base_url)
    assert done.returncode == 1  # a 400 does not prove the key is accepted: said so, not "all good"
    assert "FIX  the Market answered with an error, so whether it accepts the key is not known" in done.stdout
    done = _run("doctor", "--business-id", "5", "--base-url", "http://127.0.0.1:1", "--max-retries", "0")
    assert done.returncode == 1
    assert "FIX  the Market did not answer at http://127.0.0.1:1" in done.stdout
    assert market.operations == []


def _wait_for(condition: Any, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_ctrl_c_mid_batch_reports_what_was_sent_and_exits_130() -> None:
    with FakeMarket(api_key=KEY, latency=0.2) as market:
        market.add_returns(STORE, *range(1, 101))
        ids = [str(n) for n in range(1, 101)]
        command = _command("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, *ids)
        with subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as cli:
            _wait_for(lambda: len(market.exchanges) >= 8)
            cli.send_signal(signal.SIGINT)
            stdout, stderr = cli.communicate(timeout=30)
        sent = _sent(market)
    assert cli.returncode == 130, stderr
    lines = _lines(stdout)
    assert sorted(lines) == sorted(sent), stdout + stderr  # every return sent is reported, and only those
    assert 8 <= len(lines) < 100
    assert all(line["ok"] or line["may_have_started"] for line in lines.values()), stdout + stderr
    assert "stopped: interrupted (Ctrl-C): nothing more was sent" in stderr
    not_sent = next(line for line in stderr.splitlines() if line.startswith("not sent: "))
    assert sorted(map(int, not_sent.split()[2:])) == sorted(set(range(1, 101)) - set(sent))
    assert "Traceback" not in stderr


# Runs the command with its stderr (a pseudo-terminal) as its controlling terminal, /dev/tty, as in a login.
_ON_ITS_TERMINAL = (
    "import fcntl, os, runpy, sys, termios; fcntl.ioctl(next(fd for fd in (2, 1, 0) if os.isatty(fd)), "
    "termios.TIOCSCTTY, 0); sys.argv[0] = 'yandex-market-returns'; "
    "runpy.run_module('yandex_market_returns.cli', run_name='__main__')"
)


class _Terminal:
    """A subprocess whose stderr, and stdin unless ``stdin`` is given (then a pipe), are a pseudo-terminal, its
    controlling terminal; stdout is a pipe, as when it is redirected. With ``stdout_on_it``, stdout is the
    terminal and stderr the pipe."""

    def __init__(self, command: list[str], stdin: str | None = None, stdout_on_it: bool = False) -> None:
        self.main, other = pty.openpty()
        fcntl.ioctl(other, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))  # rows, columns: room to draw
        self.process = subprocess.Popen(
            [sys.executable, "-c", _ON_ITS_TERMINAL, *command[3:]],
            env=_env(),
            stdin=other if stdin is None else subprocess.PIPE,
            stdout=other if stdout_on_it else subprocess.PIPE,
            stderr=subprocess.PIPE if stdout_on_it else other,
            text=True,
            start_new_session=True,
        )
        os.close(other)
        if stdin is not None:
            assert self.process.stdin is not None
            with self.process.stdin:
                self.process.stdin.write(stdin)
        self.seen = b""
        # stdout is read meanwhile: a process blocked on a full pipe would stop drawing on the terminal too.
        self._stdout = concurrent.futures.ThreadPoolExecutor(1).submit(self._read_stdout)

    def _read_stdout(self) -> str:
        """What the pipe (stdout, or stderr with ``stdout_on_it``) carried."""
        piped = self.process.stdout or self.process.stderr
        assert piped is not None
        with piped:
            return piped.read()

    def read_until(self, text: bytes, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.seen:
            assert time.monotonic() < deadline, f"no {text!r} in {self.seen!r}"
            self._read(0.1)

    def type(self, text: bytes) -> None:
        os.write(self.main, text)

    def finish(self) -> tuple[int, str, str]:
        while self._read(1.0):
            pass
        self.process.wait(timeout=30)
        os.close(self.main)
        return self.process.returncode, self._stdout.result(timeout=30), self.seen.decode()

    def _read(self, seconds: float) -> bool:
        if not select.select([self.main], [], [], seconds)[0]:
            return self.process.poll() is None
        try:
            chunk = os.read(self.main, 65536)
        except OSError:  # the other side closed: Linux says EIO
            return False
        self.seen += chunk
        return bool(chunk)


def test_on_a_terminal_many_returns_ask_for_confirmation_and_no_sends_nothing(market: FakeMarket) -> None:
    ids = [str(n) for n in range(1, 31)]
    terminal = _Terminal(_command("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, *ids))
    terminal.read_until(b"Cancel 30 returns of store 21621656? A cancelled return stays cancelled. [y/N] ")
    terminal.type(b"n\n")
    returncode, stdout, _ = terminal.finish()
    assert returncode == 1
    assert stdout == ""
    assert market.exchanges == []


def test_on_a_terminal_yes_goes_on_with_a_progress_display(market: FakeMarket) -> None:
    market.latency = 0.05
    ids = [str(n) for n in range(1, 61)]
    command = _command("cancel", "--campaign-id", str(STORE), "--business-id", str(BUSINESS))
    terminal = _Terminal([*command, "--base-url", market.base_url, *ids])
    terminal.read_until(b"[y/N] ")
    terminal.type(b"y\n")
    returncode, stdout, shown = terminal.finish()
    assert returncode == 0, shown
    assert len(_lines(stdout)) == 60
    drawn = [part for part in shown.split("\r\x1b[K") if " in flight" in part]
    assert drawn, shown
    assert any("4 in flight" in part for part in drawn)  # the store's 4 parallel requests, seen
    assert "hourly requests left: " in drawn[-1]
    assert "60/60 sent · " in drawn[-1]
    assert " cancelled · 0 not cancelled · " in drawn[-1]
    assert "60 returns: 60 cancelled;" in shown


def test_yes_asks_nothing_and_ids_on_stdin_ask_on_the_terminal(market: FakeMarket) -> None:
    ids = [str(n) for n in range(1, 31)]
    terminal = _Terminal(_command("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "--yes", *ids))
    returncode, stdout, shown = terminal.finish()
    assert returncode == 0, shown
    assert "[y/N]" not in shown
    assert len(_lines(stdout)) == 30
    command = _command("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "--from", "-")
    terminal = _Terminal(command, stdin="".join(f"{n}\n" for n in range(31, 61)))
    terminal.read_until(b"Cancel 30 returns of store 21621656? A cancelled return stays cancelled. [y/N] ")
    terminal.type(b"yes\n")
    returncode, stdout, shown = terminal.finish()
    assert returncode == 0, shown
    assert sorted(_lines(stdout)) == list(range(31, 61))


def test_the_clients_warnings_are_written_above_the_progress_line(market: FakeMarket) -> None:
    market.operation_delay = 0.5
    command = _command("cancel", "--campaign-id", str(STORE), "--business-id", str(BUSINESS), "--yes")
    terminal = _Terminal([*command, "--base-url", market.base_url, "--max-retries", "0", *map(str, range(1, 31))])
    terminal.read_until(b" in flight")
    market.inject(Fault.SERVER_ERROR)  # the first getOperations: the warning that it is asked again
    returncode, _, shown = terminal.finish()
    assert returncode == 0, shown
    warning = next(part for part in shown.split("\r\x1b[K") if "getOperations failed" in part)
    assert warning.split(" ", 3)[2] == "WARNING", warning  # a line of its own, from its start


def test_a_ctrl_c_while_a_line_is_written_waits_for_the_line_to_end() -> None:
    from yandex_market_returns.cli._interrupts import Deferral

    written: list[str] = []

    def write() -> None:
        with deferral.held():
            signal.raise_signal(signal.SIGINT)
            written.append("the whole line")

    with Deferral(lambda stop: None).installed() as deferral:
        with pytest.raises(KeyboardInterrupt):
            write()
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)  # not held: at once
    assert written == ["the whole line"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _stopped_mid_batch(*signals: signal.Signals, close_stdout: bool = False) -> tuple[int, str, str, list[int]]:
    """A batch of 40 with 4 requests in flight (a 1 s latency) when the signals come, 0.3 s apart; with
    ``close_stdout``, no one reads stdout from then on (as when Ctrl-C ends ``| tee`` too)."""
    with FakeMarket(api_key=KEY, latency=1.0) as market:
        market.add_returns(STORE, *range(1, 41))
        command = _command("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "--yes")
        with subprocess.Popen(
            [*command, *map(str, range(1, 41))], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as cli:
            _wait_for(lambda: market.max_in_flight(STORE) == 4)
            if close_stdout:
                assert cli.stdout is not None
                cli.stdout.close()
            for sent in signals:
                cli.send_signal(sent)
                time.sleep(0.3)
            stdout, stderr = cli.communicate(timeout=30)
        _wait_for(lambda: len(market.exchanges) == 4)  # the abandoned ones, answered to no one
        return cli.returncode, stdout, stderr, sorted(_sent(market))


def test_a_second_ctrl_c_ends_the_wait_and_still_reports_every_return_sent() -> None:
    returncode, stdout, stderr, sent = _stopped_mid_batch(signal.SIGINT, signal.SIGINT)
    assert returncode == 130, stderr
    lines = _lines(stdout)
    assert sorted(lines) == sent == [1, 2, 3, 4]
    assert all(line["may_have_started"] and not line["ok"] for line in lines.values())  # abandoned: unknown
    assert "4 unknown (may have started; not settled: a rerun with the journal settles them)" in stderr
    assert "not sent: " + " ".join(map(str, range(5, 41))) in stderr


def test_sigterm_stops_the_batch_like_ctrl_c_and_exits_143() -> None:
    returncode, stdout, stderr, sent = _stopped_mid_batch(signal.SIGTERM)
    assert returncode == 143, stderr
    lines = _lines(stdout)
    assert sorted(lines) == sent == [1, 2, 3, 4]
    # Waited for: each answer came (or, for a stop landing while the batch was still starting its workers,
    # the request is said to be of unknown outcome: true, if less precise).
    assert all(line["ok"] or line["may_have_started"] for line in lines.values()), stdout + stderr
    assert sum(line["ok"] for line in lines.values()) >= 3, stdout + stderr
    assert "stopped: interrupted (SIGTERM): nothing more was sent" in stderr


@pytest.mark.parametrize(
    ("text", "sent", "header"),
    [
        ("\ufeff5,damaged\n6,lost\n", [5, 6], None),  # a spreadsheet's BOM, no header
        ("\ufeffreturn_id;reason\n7;x\n;\n;;\n8;y\n", [7, 8], "return_id"),  # a header, empty rows
        ("+9\n10\n", [9, 10], None),  # a sign is a number, not a header
        ("id\n11\n12\n", [11, 12], "id"),  # one column under a header
        ('"Return ID","Order"\n"13","9001"\n', [13], "Return ID"),
        ("order_id,return_id,reason\n5550001,14,x\n", [14], "return_id"),  # the column the header names
    ],
)
def test_spreadsheet_exports_are_read_and_a_header_is_said(
    market: FakeMarket, tmp_path: Path, text: str, sent: list[int], header: str | None
) -> None:
    listed = tmp_path / "export.csv"
    listed.write_text(text, encoding="utf-8")
    done = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "--from", str(listed))
    assert done.returncode == 0, done.stderr
    assert sorted(_lines(done.stdout)) == sorted(_sent(market)) == sent
    said = f"{listed} line 1 was read as a header; the ids are from its column {header!r}"
    assert (said in done.stderr) == (header is not None)


def test_a_first_line_with_a_mistyped_id_is_reported_not_skipped_as_a_header(
    market: FakeMarket, tmp_path: Path
) -> None:
    listed = tmp_path / "ids.txt"
    listed.write_text("9721l\n97212\n", encoding="utf-8")
    done = _run("cancel", "--campaign-id", str(STORE), "--from", str(listed))
    assert done.returncode == 2
    assert f"{listed} line 1: not a return id: '9721l'" in done.stderr


def test_ids_from_several_files_and_options_given_twice(market: FakeMarket, tmp_path: Path) -> None:
    (tmp_path / "a").write_text("1\n2\n", encoding="utf-8")
    (tmp_path / "b").write_text("3\n", encoding="utf-8")
    args = ("cancel", "--campaign-id", str(STORE), "--dry-run")
    done = _run(*args, "--from", str(tmp_path / "a"), "--from", str(tmp_path / "b"), "4")
    assert [json.loads(line)["return_id"] for line in done.stdout.splitlines()] == [4, 1, 2, 3]
    done = _run(*args, "--campaign-id", "5", "1")
    assert done.returncode == 2
    assert "--campaign-id is given twice" in done.stderr


def test_a_key_in_a_flag_is_refused_and_not_repeated(market: FakeMarket) -> None:
    for flag in (
        ["--api-key", "secret-in-a-flag-1"],
        ["--api-key=secret-in-a-flag-1"],
        ["--token", "secret-in-a-flag-1"],
    ):
        done = _run("cancel", "--campaign-id", str(STORE), *flag, "1")
        assert done.returncode == 2
        assert "is not taken: a key in a flag shows in ps and in shell history" in done.stderr
        assert "secret-in-a-flag-1" not in done.stdout + done.stderr
    done = _run("doctor", "--api-key-f", "secret-in-a-flag-1")  # no abbreviations: this is not --api-key-file
    assert done.returncode == 2
    done = _run("doctor", "--api-key-file", "secret-in-a-flag-1")  # a key given as the file: not repeated
    assert "FIX  key: --api-key-file: No such file or directory (the path is not shown" in done.stdout
    assert "secret-in-a-flag-1" not in done.stdout + done.stderr
    assert market.exchanges == []


def test_dry_run_checks_the_options_too(market: FakeMarket) -> None:
    args = ("--base-url", "http://example.invalid", "--timeout", "-5", "--max-retries", "-3")
    done = _run("cancel", "--campaign-id", str(STORE), "--dry-run", *args, "1")
    assert done.returncode == 2
    assert [line.split(":")[1].strip() for line in done.stderr.splitlines()] == [
        "--base-url",
        "--timeout",
        "--max-retries",
    ]


def test_a_stdout_that_cannot_be_written_loses_no_outcome(market: FakeMarket) -> None:
    command = _command("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "1", "2", "3")
    with open("/dev/full", "w", encoding="utf-8") as full:
        done = subprocess.run(command, env=_env(), stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 1
    assert "stopped: stdout could not be written ([Errno 28] No space left on device)" in done.stderr
    reported = [json.loads(line)["return_id"] for line in done.stderr.splitlines() if line.startswith("{")]
    assert sorted(reported) == sorted(_sent(market)) == [1, 2, 3]
    assert "Traceback" not in done.stderr


def test_hundreds_of_bad_lines_are_counted_after_the_first_fifty(market: FakeMarket) -> None:
    done = _run("cancel", "--campaign-id", str(STORE), "--from", "-", stdin="1x\n" * 500)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 51
    assert done.stderr.splitlines()[-1] == "yandex-market-returns: and 450 more problems"


def test_only_stdout_on_a_terminal_still_asks_there(market: FakeMarket) -> None:
    command = _command("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "--from", "-")
    terminal = _Terminal(command, stdin="".join(f"{n}\n" for n in range(1, 31)), stdout_on_it=True)
    terminal.read_until(b"[y/N] ")
    terminal.type(b"\x04")  # end of input: no
    returncode, stderr, _ = terminal.finish()
    assert returncode == 1
    assert "nothing was sent" in stderr
    assert market.exchanges == []


def test_a_stdout_that_breaks_during_the_stop_report_loses_nothing() -> None:
    returncode, _, stderr, sent = _stopped_mid_batch(signal.SIGINT, close_stdout=True)
    assert returncode == 130, stderr
    assert "stopping (Ctrl-C): nothing more is sent; waiting up to 30 s for the 4 requests in flight" in stderr
    reported = [json.loads(line)["return_id"] for line in stderr.splitlines() if line.startswith("{")]
    assert sorted(reported) == sorted(sent) == [1, 2, 3, 4]
    assert "not sent: " + " ".join(map(str, range(5, 41))) in stderr
    assert "Traceback" not in stderr


def test_after_a_second_ctrl_c_the_command_ends_without_waiting_for_abandoned_requests() -> None:
    with FakeMarket(api_key=KEY, latency=3.0) as market:
        market.add_returns(STORE, *range(1, 11))
        command = _command("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url)
        with subprocess.Popen(
            [*command, *map(str, range(1, 11))], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as cli:
            _wait_for(lambda: market.max_in_flight(STORE) == 4)
            cli.send_signal(signal.SIGINT)
            time.sleep(0.3)
            cli.send_signal(signal.SIGINT)
            second = time.monotonic()
            stdout, stderr = cli.communicate(timeout=30)
            ended_in = time.monotonic() - second
    assert cli.returncode == 130, stderr
    assert ended_in < 1.5, "it waited for the abandoned requests"
    assert len(_lines(stdout)) == 4


def test_misspelled_key_flags_are_refused_by_name_only() -> None:
    for flag in (
        ["--api_key", "y0_secret-in-a-flag"],
        ["--apikey=y0_secret-in-a-flag"],
        ["--key", "y0_secret-in-a-flag"],
    ):
        done = _run("cancel", "--campaign-id", str(STORE), "--dry-run", "1", *flag)
        assert done.returncode == 2
        assert "unrecognized arguments: " + flag[0].split("=")[0] in done.stderr
        assert "y0_secret" not in done.stdout + done.stderr


def test_keys_with_a_scheme_and_ids_of_too_many_digits_are_named_for_what_they_are() -> None:
    done = _run("cancel", "--campaign-id", "9" * 30, "--base-url", "http://127.0.0.1:1", "1", key="Bearer y0_abc")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "yandex-market-returns: --campaign-id: 999999999999999999999999999999 is out of range 1..9223372036854775807",
        "yandex-market-returns: the key from YANDEX_MARKET_API_KEY starts with 'Bearer': give the token alone",
    ]


def test_status_refuses_the_null_of_a_return_that_was_not_started(market: FakeMarket) -> None:
    done = _run(
        "status", "--business-id", str(BUSINESS), "--base-url", market.base_url, "--from", "-", stdin="x1\nnull\n"
    )
    assert done.returncode == 2
    assert "stdin line 2: null is not an operation id: a return that was not started has none" in done.stderr
    assert market.exchanges == []


def test_the_summary_counts_a_status_this_client_does_not_know_yet() -> None:
    from yandex_market_returns import Operation, OperationStatusType, OperationType, Outcome, RateLimit
    from yandex_market_returns.cli._cancel import Report, Watch
    from yandex_market_returns.cli._interrupts import Deferral

    stdout, stderr = io.StringIO(), io.StringIO()
    report = Report(stdout, stderr, True, None, Deferral(lambda stop: None))
    operation = Operation("op", OperationType.RETURN_CANCELLATION, RateLimit(None, None, None))
    for return_id, status in ((1, "DONE"), (2, "PENDING_REVIEW"), (3, "FAILED")):
        report.write(Outcome(return_id, operation=operation, status=OperationStatusType(status)))
    report.summary(3, Watch(httpx.MockTransport(lambda request: httpx.Response(200))))
    assert stderr.getvalue().startswith(
        "3 returns: 1 cancelled, 1 failed (the Market's FAILED), 1 in progress (started, not seen to end); "
        "1 of them PENDING_REVIEW;"
    )
    assert not report.all_succeeded


@pytest.mark.parametrize("key", [KEY, "fake-market-key-cli-no-digits"])
def test_a_key_file_given_as_the_ids_is_refused_and_never_shown(market: FakeMarket, tmp_path: Path, key: str) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(key + "\n", encoding="utf-8")  # without digits, its line reads as a header
    for command in (["cancel", "--campaign-id", str(STORE)], ["status", "--business-id", str(BUSINESS)]):
        done = _run(*command, "--base-url", market.base_url, "--from", str(key_file), key=key)
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            f"yandex-market-returns: {key_file} line 1 holds the API key: it is not an id"
        ]
        assert key[:8] not in done.stdout + done.stderr
    listed = tmp_path / "export.csv"
    for header in (f"return_id,{key}", f"return_id,return_{key}"):  # a column's name, or one of several likely
        listed.write_text(f"{header}\n1,x\n", encoding="utf-8")
        done = _run("cancel", "--campaign-id", str(STORE), "--dry-run", "--from", str(listed), key=key)
        assert done.returncode == 2
        assert f"{listed} line 1 holds the API key: it is not an id" in done.stderr
        assert key[-8:] not in done.stdout + done.stderr
    done = _run("cancel", "--campaign-id", str(STORE), "--dry-run", "1", f"-k{key}", key=key)
    assert done.returncode == 2
    assert key[:8] not in done.stdout + done.stderr
    assert market.exchanges == []


def test_a_header_with_several_likely_columns_is_refused_until_column_names_one(
    market: FakeMarket, tmp_path: Path
) -> None:
    listed = tmp_path / "r.csv"
    listed.write_text("order_id,return_id,return_reason\n5550001,14,damaged\n5550002,15,lost\n", encoding="utf-8")
    args = ("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "--from", str(listed))
    for dry_run in ((), ("--dry-run",)):
        done = _run(*args, *dry_run)
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr.splitlines() == [
            f"yandex-market-returns: {listed} line 1: 2 columns could hold the return ids: 'return_id', "
            "'return_reason'; choose one with --column NAME, e.g. --column return_id"
        ]
    done = _run(*args, "--column", "Return_id")
    assert done.returncode == 2
    assert "no column named 'Return_id' (--column); the header's: 'order_id', 'return_id', 'return_reason'" in (
        done.stderr
    )
    assert _run("cancel", "--campaign-id", str(STORE), "--column", "return_id", "1").returncode == 2
    assert market.exchanges == []
    done = _run(*args, "--column", "return_id")
    assert done.returncode == 0, done.stderr
    assert sorted(_lines(done.stdout)) == sorted(_sent(market)) == [14, 15]
    assert f"{listed} line 1 was read as a header; the ids are from its column 'return_id'" in done.stderr
    operations = tmp_path / "operations.csv"
    operation = market.operations[0].id
    operations.write_text(f"operation_id,operation_type\n{operation},RETURN_CANCELLATION\n", encoding="utf-8")
    args = ("status", "--business-id", str(BUSINESS), "--base-url", market.base_url, "--from", str(operations))
    done = _run(*args)
    assert done.returncode == 2
    assert "2 columns could hold the operation ids: 'operation_id', 'operation_type'" in done.stderr
    done = _run(*args, "--column", "operation_id")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"operation_id": operation, "status": "DONE"}


def test_the_key_file_may_be_a_pipe_and_is_read_once(market: FakeMarket) -> None:
    args = ("--base-url", market.base_url)
    done = subprocess.run(
        _command("status", "--business-id", str(BUSINESS), *args, "--api-key-file", "/dev/stdin", "no-such-one"),
        input=KEY, capture_output=True, text=True, env=_env(None), timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # the Market answered: the operation is not reported
    assert "1 operation: 1 not reported" in done.stderr
    done = subprocess.run(
        _command("cancel", "--campaign-id", str(STORE), *args, "--api-key-file", "/dev/stdin", "--from", "-"),
        input=KEY, capture_output=True, text=True, env=_env(None), timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == (
        "yandex-market-returns: --from -: stdin holds the key (--api-key-file): give the ids as arguments or in a file"
    )
    for text, returncode in ((KEY, 0), ("", 2)):  # as bash's <(printf ...) gives it
        read, write = os.pipe()
        os.write(write, text.encode())
        os.close(write)
        command = _command("cancel", "--campaign-id", str(STORE), *args, "--api-key-file", f"/dev/fd/{read}", "5")
        done = subprocess.run(
            command, capture_output=True, text=True, env=_env(None), timeout=120, check=False, pass_fds=(read,)
        )
        os.close(read)
        assert done.returncode == returncode, done.stderr
    assert _sent(market) == [5]
    assert "--api-key-file: the file is empty" in done.stderr
    done = _run("cancel", "--campaign-id", str(STORE), "--api-key-file", "/dev/zero", "5", key=None)
    assert done.returncode == 2
    assert "--api-key-file: over 4,096 bytes, more than is read of one file" in done.stderr


def test_cancel_and_status_warn_of_a_key_file_others_can_read(market: FakeMarket, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    args = ("--base-url", market.base_url, "--api-key-file", str(key_file))
    warning = f"yandex-market-returns: warning: key file {key_file}: others can read it; run: chmod 600 {key_file}"
    for return_id, mode, warned in ((1, 0o640, True), (2, 0o604, True), (3, 0o600, False)):
        key_file.chmod(mode)
        done = _run("cancel", "--campaign-id", str(STORE), *args, str(return_id), key=None)
        assert done.returncode == 0, done.stderr
        operation = _lines(done.stdout)[return_id]["operation_id"]
        status = _run("status", "--business-id", str(BUSINESS), *args, operation, key=None)
        assert status.returncode == 0, status.stderr
        assert (warning in done.stderr.splitlines()) == (warning in status.stderr.splitlines()) == warned


def test_input_past_the_bounds_is_refused_at_once(market: FakeMarket) -> None:
    started = time.monotonic()
    done = _run("cancel", "--campaign-id", str(STORE), "--from", "/dev/zero")
    assert time.monotonic() - started < 10  # (the process's start included: /dev/zero is not read to its end)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "yandex-market-returns: /dev/zero line 1: over 4,096 bytes, more than is read of one line: "
        "is it the right file?"
    ]
    done = _run("status", "--business-id", str(BUSINESS), "--from", "-", stdin="op-1\n" + "x" * 5000 + "\n")
    assert done.returncode == 2
    assert "stdin line 2: over 4,096 bytes, more than is read of one line" in done.stderr
    assert market.exchanges == []


def test_a_line_holding_a_form_feed_or_u2028_is_refused_and_spaces_around_ids_are_not(
    market: FakeMarket, tmp_path: Path
) -> None:
    joined = tmp_path / "joined.txt"
    joined.write_text("1\f2\n3\u20284\n5\n", encoding="utf-8")
    done = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, "--from", str(joined))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"yandex-market-returns: {joined} line 1: holds a form feed (U+000C), which does not end a line: one id a line",
        f"yandex-market-returns: {joined} line 2: holds a line separator (U+2028), which does not end a line: one id "
        "a line",
    ]
    assert market.exchanges == []
    listed = tmp_path / "export.csv"
    listed.write_text('return_id,order\n 5 ,1\n\t6\t,2\n" 8 ",3\n', encoding="utf-8")
    args = ("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, " 7 ", "--from", str(listed))
    done = _run(*args, "--from", "-", stdin=" 9 \n")
    assert done.returncode == 0, done.stderr
    assert sorted(_lines(done.stdout)) == sorted(_sent(market)) == [5, 6, 7, 8, 9]


def test_status_exits_3_when_the_market_could_not_be_asked_or_refused(market: FakeMarket) -> None:
    args = ("status", "--business-id", str(BUSINESS), "op-1")
    done = _run(*args, "--base-url", "http://127.0.0.1:1", "--max-retries", "0")
    assert done.returncode == 3
    assert "getOperations failed: ConnectionError: " in done.stderr
    assert done.stderr.rstrip().endswith("the operations' statuses are not known")
    done = _run(*args, "--base-url", market.base_url, key="wrong-key-of-the-operator-93a1")
    assert done.returncode == 3
    assert "getOperations failed: ForbiddenError: " in done.stderr
    assert done.stdout == ""
    helped = _run("status", "--help").stdout
    assert "1 the Market answered and some are not DONE" in " ".join(helped.split())
    assert "3 getOperations failed: the Market could not be asked, or refused" in " ".join(helped.split())


def test_returns_held_back_by_a_spent_hourly_limit_are_listed_as_not_sent() -> None:
    with FakeMarket(api_key=KEY, hourly_limit=3) as market:  # 12 returns: some are sent, then some held back
        market.add_returns(STORE, *range(1, 13))
        done = _run("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, *map(str, range(1, 13)))
        sent = _sent(market)
    assert done.returncode == 1
    not_sent = next(line for line in done.stderr.splitlines() if line.startswith("not sent: "))
    assert sorted(map(int, not_sent.split()[2:])) == sorted(set(range(1, 13)) - set(sent))
    assert "held back by the store's spent hourly limit" in done.stderr


def test_a_sighup_ignored_by_nohup_stays_ignored() -> None:
    with FakeMarket(api_key=KEY, latency=0.5) as market:
        market.add_returns(STORE, *range(1, 9))
        command = _command("cancel", "--campaign-id", str(STORE), "--base-url", market.base_url, *map(str, range(1, 9)))
        with subprocess.Popen(
            ["nohup", *command], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as cli:
            _wait_for(lambda: market.max_in_flight(STORE) == 4)
            cli.send_signal(signal.SIGHUP)
            stdout, stderr = cli.communicate(timeout=30)
    assert cli.returncode == 0, stderr
    assert len(_lines(stdout)) == 8
