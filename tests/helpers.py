"""What several test modules share: the fake Market's store and key, clients pointed at it, raw requests to
it, the servers and scripts the packaging tests use, the third-party tools the tests run, and the cassettes
read as plain data and checked against openapi.yaml. Fixtures stay in conftest.py; no test module imports
another's helpers."""

import json
import re
import shutil
import socket
import sys
import threading
import venv
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.datastructures import MultiDict

from tools.market_vcr import CASSETTES, LIVE_SOURCE, OPERATIONS_CASSETTES, RETURN_CASSETTES, RETURNS_CASSETTES
from yandex_market_returns import AsyncReturnsClient, ReturnsClient
from yandex_market_returns.testing import Exchange, FakeMarket
from yandex_market_returns_client.models import ApiErrorResponse, ApiResponseStatusType, OperationStatusType

CAMPAIGN = 21621656
KEY = "fake-market-key-7f3a9c1e"
# Every return id below 10,000 exists in the fake Market and can be cancelled.
RETURNS = range(1, 10_000)
# Short waits, so that retry tests take milliseconds, not seconds.
FAST: dict[str, Any] = {"backoff": 0.01, "retry_budget": 5.0}
# A batch's settling within a second: how long a lost answer's return is looked up before it is sent again.
SETTLE: dict[str, Any] = {"confirm_timeout": 1.0, "poll_interval": 0.05}
ROOT = Path(__file__).parent.parent


def clean_venv(folder: Path) -> Path:
    """A venv without pip, filled by this environment's pip (``pip_install``): no ensurepip per test."""
    venv.create(folder, with_pip=False)
    return folder / "bin" / "python"


def pip_install(python: Path, *args: str | Path) -> list[str | Path]:
    """The command that installs into the venv of ``python`` with this environment's pip."""
    return [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--disable-pip-version-check", *args]


def client_for(market: FakeMarket, **options: Any) -> ReturnsClient:
    return ReturnsClient(**{"api_key": KEY, "base_url": market.base_url, **FAST, **options})


def async_client(market: FakeMarket, **options: Any) -> AsyncReturnsClient:
    return AsyncReturnsClient(**{"api_key": KEY, "base_url": market.base_url, **FAST, **options})


class CountingTransport(httpx.MockTransport):
    """Counts the requests that reach the transport; answers each with a started operation."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = {"status": "OK", "result": {"operation": {"id": "op-1", "type": "RETURN_CANCELLATION"}}}
        return httpx.Response(200, json=body)


# Raw requests to the fake Market.

CANCEL_PATH = f"/v1/campaigns/{CAMPAIGN}/returns/cancel"
RATE_LIMIT_HEADERS = ("X-RateLimit-Resource-Limit", "X-RateLimit-Resource-Remaining", "X-RateLimit-Resource-Until")


def post(market: FakeMarket, body: Any = None, *, path: str = CANCEL_PATH, **options: Any) -> httpx.Response:
    headers = options.pop("headers", {"Api-Key": KEY})
    if body is None:
        body = {"returnId": 1}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **headers}
    return httpx.request(options.pop("method", "POST"), market.base_url + path, headers=headers, content=content)


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    (error,) = response.json()["errors"]
    assert response.json()["status"] == "ERROR"
    return response.status_code, error["code"], error["message"]


def validate(exchange: Exchange, *, request: bool = True) -> None:
    validate_exchange(
        exchange.method,
        exchange.path,
        exchange.headers,
        exchange.body,
        exchange.status,
        exchange.response_headers,
        exchange.response_body,
        request=request,
    )


# The operations' states.

BUSINESS = FakeMarket.DEFAULT_BUSINESS
DONE, FAILED, IN_PROGRESS = OperationStatusType.DONE, OperationStatusType.FAILED, OperationStatusType.IN_PROGRESS


def dripping_server(stop: threading.Event) -> tuple[socket.socket, threading.Thread]:
    """Answers every request with a 200 promising 400 bytes, then sends one byte each 0.1 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)

    def serve() -> None:
        connections = []
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n")
            connections.append(connection)
            threading.Thread(target=_drip, args=(connection, stop), daemon=True).start()
        for connection in connections:
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def _drip(connection: socket.socket, stop: threading.Event) -> None:
    for _ in range(100):
        if stop.wait(0.1):
            return
        try:
            connection.sendall(b" ")
        except OSError:
            return


# What the packaging tests install and run.

VERSION = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))["info"]["version"]

SMOKE = """
import importlib.metadata, sys
from pathlib import Path
import httpx
import yandex_market_returns_client as package
from yandex_market_returns_client import AuthenticatedClient
from yandex_market_returns_client.api.returns import cancel_return
from yandex_market_returns_client.models import ApiErrorResponse, CancelReturnRequest, CancelReturnResponse

assert importlib.metadata.version("yandex-market-returns-client") == sys.argv[1]
assert (Path(package.__file__).parent / "py.typed").is_file()
answers = {
    97211: (200, b'{"status":"OK","result":{"operation":{"id":"op-1","type":"RETURN_CANCELLATION"}}}'),
    97212: (420, b'{"status":"ERROR","errors":[{"code":"HIT_RATE_LIMIT","message":"slow down"}]}'),
}
def handle(request):
    status, body = answers[int(request.read().decode().split(":")[1].strip(" }"))]
    return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})
transport = httpx.MockTransport(handle)
client = AuthenticatedClient(base_url="https://market.invalid", token="t", httpx_args={"transport": transport})
with client:
    ok = cancel_return.sync(1, client=client, body=CancelReturnRequest(return_id=97211))
    limited = cancel_return.sync(1, client=client, body=CancelReturnRequest(return_id=97212))
assert isinstance(ok, CancelReturnResponse) and ok.result and ok.result.operation.id == "op-1", ok
assert isinstance(limited, ApiErrorResponse) and limited.errors and limited.errors[0].code == "HIT_RATE_LIMIT"

from yandex_market_returns import ReturnsClient, errors
from yandex_market_returns.testing import FakeMarket
with FakeMarket() as market:
    market.add_returns(5, 6)
    with ReturnsClient(api_key=market.api_key, base_url=market.base_url) as returns:
        operation = returns.cancel_return(5, 6)
        try:
            returns.cancel_return(5, 6)
        except errors.BadRequestError as error:
            assert "shipmentStatus is CANCELLED" in str(error), error
        else:
            raise AssertionError("a second cancellation must fail")
assert operation.type == "RETURN_CANCELLATION" and operation.rate_limit.until.tzinfo is not None, operation
import yandex_market_returns.limits as limits
assert "redis" not in sys.modules, "the base install never imports redis"
try:
    limits.RedisLimits
except ImportError as error:
    assert "pip install 'yandex-market-returns-client[redis]'" in str(error), error
else:
    raise AssertionError("RedisLimits without the extra must say how to get it")
print(" ".join(f"{d}=={importlib.metadata.version(d)}" for d in ("httpx", "attrs", "python-dateutil")))
"""


# Third-party tools the tests run: the npm ones that `make test` installs from package-lock.json, and the
# Debian packages CI installs (.ci/run).

NODE_BIN = ROOT / "node_modules" / ".bin"


def node_tool(name: str) -> Path:
    """The pinned tool, or a failure that says how to get it (never a skip: make test installs them)."""
    tool = NODE_BIN / name
    if not tool.exists():
        raise AssertionError(f"{tool} is missing: run the tests with `make test`, which installs package-lock.json")
    return tool


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def debian_jar(name: str, package: str) -> Path:
    """A jar from a Debian package, or a failure that names the package (never a skip: .ci/run installs it)."""
    jar = Path("/usr/share/java") / name
    if not jar.exists():
        raise AssertionError(f"{jar} is missing: install Debian's {package} (apt-get install {package})")
    return jar


# Cassettes read as plain data, and checked against openapi.yaml, independently of VCR.py's replay.

SPEC = ROOT / "openapi.yaml"
SERVER = "https://api.partner.market.yandex.ru"
# How a cassette's metadata.source begins: where its content comes from.
SOURCES = ("documentation", "api-facts.md", "hand-made", "fake Market", LIVE_SOURCE)
_PATH = re.compile(r"^/v1/campaigns/(?P<campaign_id>[^/]+)/returns/cancel$")
_OPERATIONS_PATH = re.compile(r"^/v1/businesses/(?P<business_id>[^/]+)/operations$")


@dataclass(frozen=True)
class Recording:
    """One cassette's single interaction, and what its metadata says of it."""

    name: str
    file: Path
    source: str
    spec_deviation: str | None
    method: str
    path: str
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int
    response_headers: Mapping[str, str]
    response_body: bytes

    @property
    def recorded_live(self) -> bool:
        return self.source.startswith(LIVE_SOURCE)

    @property
    def campaign_id(self) -> int:
        match = _PATH.match(self.path)
        assert match, f"{self.name}: {self.path} is not the cancelReturn path"
        return int(match["campaign_id"])

    @property
    def return_id(self) -> int:
        return int(json.loads(self.request_body)["returnId"])

    @property
    def business_id(self) -> int:
        match = _OPERATIONS_PATH.match(self.path)
        assert match, f"{self.name}: {self.path} is not the getOperations path"
        return int(match["business_id"])

    @property
    def operation_ids(self) -> list[str]:
        return list(json.loads(self.request_body)["operationIds"])

    @property
    def request_deviates(self) -> bool:
        """The cassette shows the Market's answer to a request the spec forbids (the answer conforms)."""
        return (self.spec_deviation or "").startswith("request:")

    def response_json(self) -> Any:
        return json.loads(self.response_body)


def _headers(recorded: dict[str, list[str]]) -> httpx.Headers:
    """Recorded headers, looked up case-insensitively (httpx records names in lower case)."""
    return httpx.Headers([(name, value) for name, values in recorded.items() for value in values])


def load(path: Path, root: Path = CASSETTES) -> Recording:
    """Read a cassette; its name is its path below root, without the suffix."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    (interaction,) = data["interactions"]
    request, response = interaction["request"], interaction["response"]
    body = response["body"]["string"]
    return Recording(
        name=str(path.relative_to(root).with_suffix("")) if path.is_relative_to(root) else path.stem,
        file=path,
        source=data["metadata"]["source"],
        spec_deviation=data["metadata"].get("spec_deviation"),
        method=request["method"],
        path=re.sub(r"^[a-z]+://[^/]+", "", request["uri"]),
        request_headers=_headers(request["headers"]),
        request_body=(request["body"] or "").encode(),
        status=response["status"]["code"],
        response_headers=_headers(response["headers"]),
        response_body=body if isinstance(body, bytes) else body.encode(),
    )


def all_recordings(folder: Path = CASSETTES) -> list[Recording]:
    return [load(path, folder) for path in sorted(folder.rglob("*.yaml"))]


def every_recording() -> list[Recording]:
    """The cassettes of every method."""
    folders = (CASSETTES, OPERATIONS_CASSETTES, RETURN_CASSETTES, RETURNS_CASSETTES)
    return [recording for folder in folders for recording in all_recordings(folder)]


def recording_id(recording: Recording) -> str:
    """A test id that says which method's cassette it is: cancel_return/200_started."""
    return str(recording.file.relative_to(CASSETTES.parent).with_suffix(""))


@cache
def openapi() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC))


def validate_recording(recording: Recording, *, request: bool = True) -> None:
    """Raise openapi-core's error unless the request (when ``request``) and the response both conform to
    openapi.yaml."""
    validate_exchange(
        recording.method,
        recording.path,
        recording.request_headers,
        recording.request_body,
        recording.status,
        recording.response_headers,
        recording.response_body,
        request=request,
    )


def validate_exchange(
    method: str,
    path: str,
    request_headers: Mapping[str, str],
    request_body: bytes,
    status: int,
    response_headers: Mapping[str, str],
    response_body: bytes,
    *,
    request: bool = True,
) -> None:
    path, _, query = path.partition("?")
    mock_request = MockRequest(
        SERVER,
        method.lower(),
        path,
        args=MultiDict(parse_qsl(query, keep_blank_values=True)),  # a parameter may repeat
        headers=dict(request_headers),
        data=request_body,
        content_type=httpx.Headers(request_headers).get("Content-Type", "application/json"),
    )
    response = MockResponse(
        response_body,
        status_code=status,
        headers=dict(response_headers),
        content_type=httpx.Headers(response_headers).get("Content-Type", ""),
    )
    if request:
        openapi().validate_request(mock_request)
    openapi().validate_response(mock_request, response)


def failed(code: str, message: str) -> Callable[[object], None]:
    """A replayed error answer's check: the Market's error wrapper holding exactly this one error."""

    def check(parsed: object) -> None:
        assert isinstance(parsed, ApiErrorResponse)
        assert parsed.status is ApiResponseStatusType.ERROR
        assert isinstance(parsed.errors, list)
        assert [(e.code, e.message) for e in parsed.errors] == [(code, message)]

    return check
