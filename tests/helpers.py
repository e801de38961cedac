"""What several test modules share: the fake Market's store and key, clients pointed at it, raw requests to
it, and the servers and scripts the packaging tests use. Fixtures stay in conftest.py; no test module imports
another's helpers."""

import json
import socket
import sys
import threading
import venv
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.recordings import validate_exchange
from yandex_market_returns import AsyncReturnsClient, ReturnsClient
from yandex_market_returns.testing import Exchange, FakeMarket
from yandex_market_returns_client.models import OperationStatusType

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
