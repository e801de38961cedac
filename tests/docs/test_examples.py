"""Every code block of README.md, CONTRIBUTING.md and docs/ runs, in order, as a reader would run it.

Sybil reads the blocks. Python blocks run in one namespace per document, against the fake Market on
loopback: requests for the Market's host are sent to it instead, and its key is in YANDEX_MARKET_API_KEY.
A branch the fake Market's answers do not reach (an ``except`` that nothing raises) is not run, so every
Python block is also checked by mypy --strict, which sees a misspelt name or attribute there too. Shell
blocks run command by command, each by a runner that knows what the command needs here (the fake Market's
URL, the built wheel, a sandbox folder); a command no runner knows fails the test, and so does a variable
that nothing here reads. Text blocks are output and samples, not code.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sybil import Example, Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser

from tests.helpers import ROOT, VERSION
from tools import prerequisites
from tools.redis_server import RedisServer
from yandex_market_returns.testing import FakeMarket

DOCUMENTS = [
    "README.md",
    "CONTRIBUTING.md",
    *sorted(path.relative_to(ROOT).as_posix() for path in ROOT.glob("docs/*.md")),
]
LANGUAGES = {"python", "sh", "text"}
# Every fence that opens a block, with its whole info string: a block Sybil would not collect fails.
FENCE = re.compile(r"^ *(?:```|~~~)(.*)$", re.MULTILINE)

MARKET_HOST = "api.partner.market.yandex.ru"
CAMPAIGN, BUSINESS, ORDER = 21621656, 11029645, 46150531
RETURNS = (97211, 97212, 97213)

# Names the prose leaves to the reader's own service.
STAND_INS: dict[str, Any] = {
    "campaign_id": CAMPAIGN,
    "return_ids": list(RETURNS),
    "show_progress": lambda outcome: None,
    "save": lambda outcomes: None,
    "requeue": lambda return_ids: None,
}
# What an example's "..." stands for, by the variable it is given to.
SECRETS = {"TWINE_PASSWORD": "not-a-real-password"}
# The variables the package, the tools and the Makefile read: an example may export these only.
READ_HERE = {
    name
    for path in [*ROOT.glob("src/**/*.py"), *ROOT.glob("tools/*.py"), ROOT / "Makefile"]
    for name in re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", path.read_text())
}
# The stand-ins as mypy sees them, ahead of each block it checks.
TYPED_STAND_INS = """
from yandex_market_returns import Outcome
campaign_id: int
return_ids: list[int]
def show_progress(outcome: Outcome) -> None: ...
def save(outcomes: list[Outcome]) -> None: ...
def requeue(return_ids: list[int]) -> None: ...
"""
# What a batch stopped by Ctrl-C puts on its KeyboardInterrupt (see "Batches" in docs/guide.md): attributes
# that no type checker can know of.
ON_THE_INTERRUPT = re.compile(r'error: "KeyboardInterrupt" has no attribute "(outcomes|not_sent)"')


def _shell(example: Example) -> None:
    shell: Shell = example.namespace["shell"]
    for command in _commands(example.parsed):
        shell.run(command)


SYBIL = Sybil(parsers=[PythonCodeBlockParser(), CodeBlockParser(language="sh", evaluator=_shell)])


def _commands(block: str) -> Iterator[list[str]]:
    for line in block.replace("\\\n", " ").splitlines():
        for part in re.sub(r"(^|\s)#.*", "", line).split("&&"):
            if part.strip():
                yield shlex.split(part)


class Shell:
    """Runs the documents' commands on this machine, never against anything but loopback and a sandbox."""

    def __init__(self, market: FakeMarket, sandbox: Path, dist: Callable[[], Path]) -> None:
        self._market = market
        self._sandbox = sandbox
        self._dist = dist
        # The command as installed: both packages importable wherever it runs.
        self._env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("generated", "src"))}
        self._operation_ids: list[str] = []
        self._runners: dict[str, Callable[[list[str]], None]] = {
            "export": self._export,
            "apt-get": self._apt_get,
            "make": self._make,
            "mkdir": self._here,
            "touch": self._here,
            "pip": self._pip,
            "yandex-market-returns": self._command_line,
            "npx": self._npx,
            "openapi-generator-cli": self._openapi_generator,
        }

    def run(self, argv: list[str]) -> None:
        runner = self._runners.get(argv[0])
        assert runner is not None, f"no runner for {shlex.join(argv)}: add one to tests/docs/test_examples.py"
        runner(argv)

    def _export(self, argv: list[str]) -> None:
        for assignment in argv[1:]:
            name, _, value = assignment.partition("=")
            assert name in READ_HERE, f"{name}: nothing here reads it"
            if value == "...":
                value = self._market.api_key if name == "YANDEX_MARKET_API_KEY" else SECRETS[name]
            self._env[name] = value

    def _apt_get(self, argv: list[str]) -> None:
        """The packages the check names, all of them: installing them is CI's part (.ci/run)."""
        assert argv[1:3] == ["install", "-y"]
        assert argv[3:] == list(prerequisites.PACKAGES)

    def _make(self, argv: list[str]) -> None:
        """make prerequisites and make vendor run; the suite's own targets (test, check, demo, publish) are
        run by CI and by their own tests, so here make only shows that it would run them."""
        targets = [arg for arg in argv[1:] if "=" not in arg]
        settings = [self._absolute(arg) for arg in argv[1:] if "=" in arg]
        real = targets in (["prerequisites"], ["vendor"])
        command = ["make", "-s", "-C", str(ROOT), *([] if real else ["-n"]), *targets, *settings]
        self._check(command, cwd=ROOT)

    def _here(self, argv: list[str]) -> None:
        self._check(argv, cwd=self._sandbox)

    def _pip(self, argv: list[str]) -> None:
        """The pinned release, from an index of the wheel built here and the runtime dependencies' wheels."""
        assert argv[:3] == ["pip", "install", "--index-url"]
        assert argv[4:] == [f"yandex-market-returns-client=={VERSION}"]
        links = ["--find-links", str(self._dist()), "--find-links", str(ROOT / "build" / "wheelhouse")]
        self._check([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", *links, *argv[4:]])

    def _command_line(self, argv: list[str]) -> None:
        arguments, out = argv[1:], None
        if ">" in arguments:
            out = self._sandbox / arguments[arguments.index(">") + 1]
            arguments = arguments[: arguments.index(">")]
        if "OPERATION_ID" in arguments:
            assert self._operation_ids, "a status before any cancel"
            arguments = [arg for arg in arguments if arg not in ("OPERATION_ID", "...")] + self._operation_ids
        command = [sys.executable, "-m", "yandex_market_returns.cli", *arguments, "--base-url", self._market.base_url]
        printed = self._check(command, cwd=self._sandbox)
        if out is not None:
            out.write_text(printed)
            started = (json.loads(line)["operation_id"] for line in printed.splitlines())
            self._operation_ids = [operation_id for operation_id in started if operation_id is not None]

    def _npx(self, argv: list[str]) -> None:
        self._check([str(ROOT / "node_modules" / ".bin" / argv[1]), *argv[2:]], cwd=self._sandbox)

    def _openapi_generator(self, argv: list[str]) -> None:
        self._check([str(Path(sys.executable).parent / argv[0]), *argv[1:]], cwd=self._sandbox)

    def _absolute(self, setting: str) -> str:
        name, _, value = setting.partition("=")
        return f"{name}={(self._sandbox / value).resolve()}" if value.startswith(".") else setting

    def _check(self, command: list[str], cwd: Path | None = None) -> str:
        done = subprocess.run(command, cwd=cwd, env=self._env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{shlex.join(command)} ended {done.returncode}:\n{done.stdout}{done.stderr}"
        return done.stdout


@pytest.fixture
def market() -> Iterator[FakeMarket]:
    with FakeMarket(businesses={CAMPAIGN: BUSINESS}) as fake:
        fake.add_returns(CAMPAIGN, RETURNS[0], order_id=ORDER)
        fake.add_returns(CAMPAIGN, *RETURNS[1:])
        yield fake


@pytest.fixture
def to_the_fake_market(market: FakeMarket, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests for the Market's host go to the fake Market, whichever client sends them."""
    fake = httpx.URL(market.base_url)

    def rerouted(request: httpx.Request) -> None:
        if request.url.host == MARKET_HOST:
            request.url = request.url.copy_with(scheme=fake.scheme, host=fake.host, port=fake.port)

    sync_send = httpx.HTTPTransport.handle_request
    async_send = httpx.AsyncHTTPTransport.handle_async_request

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        rerouted(request)
        return sync_send(self, request)

    async def handle_async_request(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        rerouted(request)
        return await async_send(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request)
    monkeypatch.setenv("YANDEX_MARKET_API_KEY", market.api_key)


@pytest.mark.usefixtures("to_the_fake_market")
@pytest.mark.parametrize("document", [name for name in DOCUMENTS if FENCE.search((ROOT / name).read_text())])
def test_every_code_block_runs(
    document: str, market: FakeMarket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    sandbox = tmp_path / "checkout"
    sandbox.mkdir()
    (sandbox / "openapi.yaml").write_bytes((ROOT / "openapi.yaml").read_bytes())
    (sandbox / "returns.csv").write_text("return id\n" + "\n".join(map(str, RETURNS)) + "\n")
    monkeypatch.chdir(sandbox)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    parsed = SYBIL.parse(ROOT / document)
    parsed.namespace.update(STAND_INS, shell=Shell(market, sandbox, lambda: request.getfixturevalue("dist")))
    redis = None
    if "YANDEX_MARKET_RETURNS_REDIS_URL" in (ROOT / document).read_text():
        (tmp_path / "redis").mkdir()
        redis = RedisServer(tmp_path / "redis")
        redis.start()
        monkeypatch.setenv("YANDEX_MARKET_RETURNS_REDIS_URL", redis.url)
    try:
        for example in parsed:
            try:
                example.evaluate()
            except Exception as error:
                raise AssertionError(f"{document}, line {example.line}: {error}") from error
    finally:
        if redis is not None:
            redis.stop()


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_code_block_is_of_a_language_that_runs(document: str) -> None:
    """A block in another language, or with more than its language on its fence, would pass unrun: ```sh,
    ```python, or ```text for output and samples; and Sybil collects every block that is code."""
    text = (ROOT / document).read_text()
    languages = [info.strip() for info in FENCE.findall(text)[::2]]  # each block's opening fence
    assert set(languages) <= LANGUAGES, f"{document}: {sorted(set(languages) - LANGUAGES)}"
    assert len(list(SYBIL.parse(ROOT / document))) == sum(language != "text" for language in languages)


def test_every_python_block_type_checks(tmp_path: Path) -> None:
    """mypy --strict over each block, the stand-ins declared ahead of it; a sketch's ``...`` bodies aside."""
    blocks = []
    for document in DOCUMENTS:
        for number, example in enumerate(SYBIL.parse(ROOT / document)):
            if example.region.parsed is not None and example.region.evaluator is not _shell:
                name = re.sub(r"\W", "_", document.removesuffix(".md")) + f"_{number}.py"
                (tmp_path / name).write_text(TYPED_STAND_INS + str(example.parsed))
                blocks.append(name)
    assert len(blocks) >= 10
    command = [sys.executable, "-m", "mypy", "--strict", "--disable-error-code", "empty-body"]
    command += ["--cache-dir", str(ROOT / ".mypy_cache"), *blocks]
    env = {**os.environ, "MYPYPATH": os.pathsep.join(str(ROOT / part) for part in ("generated", "src"))}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line and not ON_THE_INTERRUPT.search(line)]
    assert errors == [], done.stdout


def test_a_command_no_runner_knows_fails(market: FakeMarket, tmp_path: Path) -> None:
    shell = Shell(market, tmp_path, lambda: tmp_path)
    with pytest.raises(AssertionError, match="no runner for curl"):
        shell.run(["curl", "https://example.com"])


def test_a_command_that_fails_fails_the_block(market: FakeMarket, tmp_path: Path) -> None:
    shell = Shell(market, tmp_path, lambda: tmp_path)
    with pytest.raises(AssertionError, match="ended 2"):
        shell.run(["yandex-market-returns", "cancel", "--campaign-id", "0", "1"])


def test_a_variable_nothing_reads_fails(market: FakeMarket, tmp_path: Path) -> None:
    shell = Shell(market, tmp_path, lambda: tmp_path)
    with pytest.raises(AssertionError, match="TWINE_INDEX: nothing here reads it"):
        shell.run(["export", "TWINE_INDEX=https://example.com"])
